import type { ServerResponse } from 'node:http';
import { constants } from 'node:http2';

/** What the watchdog reads and does on an HTTP/2 reply's stream. */
interface ReplyStream {
  readonly writableLength: number;
  readonly destroyed: boolean;
  close(code: number): void;
}

/** A reply being watched, and the progress last seen on it. */
interface Watched {
  readonly response: ServerResponse;
  readonly timeout: number;
  lastDone: number;
  /** Over HTTP/2: what the reply's stream held back at the last look. */
  lastPending: number;
  progressAt: number;
  readonly stop: () => void;
}

/**
 * The replies watched with one `timeout`, and the one timer that looks at them all: a timer per
 * reply was one more object and timer-list entry per batch.
 */
interface Watch {
  readonly replies: Set<Watched>;
  timer: ReturnType<typeof setInterval> | undefined;
}

const watches = new Map<number, Watch>();

/**
 * Destroys the connection of a reply whose writing has made no progress for `timeout` ms while
 * some of it is still pending: a client that sends a batch and never reads the reply would
 * otherwise keep the whole reply in the process's memory for as long as it keeps the connection
 * open. Destroying the response frees what is buffered and, through its `'close'`, aborts the
 * batch (a streamed reply's operations not yet started never start).
 *
 * Progress is a write the socket finished: Node reports a write done only when all of it has
 * gone to the kernel, so a reply written in one piece (a JSON reply) must be taken whole within
 * `timeout`; a streamed reply is measured line by line. Looks every quarter of `timeout`, on an
 * unref'd timer shared by every reply watched with that `timeout` (running only while there is
 * one), so a stall is caught within 1.25 `timeout`.
 */
export function destroyStalledReply(response: ServerResponse, timeout: number): void {
  let watch = watches.get(timeout);
  if (!watch) {
    watch = { replies: new Set(), timer: undefined };
    watches.set(timeout, watch);
  }
  const { replies } = watch;
  const watched: Watched = {
    response,
    timeout,
    lastDone: 0,
    lastPending: 0,
    progressAt: Date.now(),
    stop: () => {
      replies.delete(watched);
      response.off('close', watched.stop);
    },
  };
  replies.add(watched);
  response.once('close', watched.stop);
  if (watch.timer === undefined) {
    const current = watch;
    current.timer = setInterval(() => lookAll(current), Math.max(1, Math.floor(timeout / 4)));
    current.timer.unref();
  }
}

/** Looks at every reply of `watch`; the timer stops once none is left. */
function lookAll(watch: Watch): void {
  const now = Date.now();
  for (const watched of watch.replies) look(watched, now);
  if (watch.replies.size === 0) {
    clearInterval(watch.timer);
    watch.timer = undefined;
  }
}

function look(watched: Watched, now: number): void {
  const { response } = watched;
  // Over HTTP/2 the socket is the session's, shared by every stream: an unread reply waits in
  // its own stream, behind flow control, and never shows on the socket.
  const { stream } = response as { stream?: ReplyStream };
  if (stream) {
    lookAtStream(watched, stream, now);
    return;
  }
  const socket = response.socket;
  if (response.writableFinished || response.destroyed || !socket || socket.destroyed) {
    watched.stop();
    return;
  }
  const pending = socket.writableLength;
  // `bytesWritten` counts what was handed to the socket, buffered or not; less what is still
  // buffered, it is what the socket finished writing.
  const done = socket.bytesWritten - pending;
  if (pending === 0 || done !== watched.lastDone) {
    watched.lastDone = done;
    watched.progressAt = now;
  } else if (now - watched.progressAt >= watched.timeout) {
    watched.stop();
    response.destroy();
  }
}

/**
 * An HTTP/2 reply: progress is what its stream held back going down (the client's window let
 * some go), or nothing held back. A stream keeps no count of what it sent.
 */
function lookAtStream(watched: Watched, stream: ReplyStream, now: number): void {
  const { response } = watched;
  if (response.writableFinished || stream.destroyed) {
    watched.stop();
    return;
  }
  const pending = stream.writableLength;
  if (pending === 0 || pending < watched.lastPending) watched.progressAt = now;
  else if (now - watched.progressAt >= watched.timeout) {
    watched.stop();
    // Cancelled: a stream destroyed without an error ends gracefully, after the data it holds,
    // which the client never takes (measured: it never closed).
    stream.close(constants.NGHTTP2_CANCEL);
    return;
  }
  watched.lastPending = pending;
}
