import type { ServerResponse } from 'node:http';

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
 * unref'd timer, so a stall is caught within 1.25 `timeout`.
 */
export function destroyStalledReply(response: ServerResponse, timeout: number): void {
  let lastDone = 0;
  let progressAt = Date.now();
  const look = (): void => {
    const socket = response.socket;
    if (response.writableFinished || response.destroyed || !socket || socket.destroyed) {
      stop();
      return;
    }
    const pending = socket.writableLength;
    // `bytesWritten` counts what was handed to the socket, buffered or not; less what is still
    // buffered, it is what the socket finished writing.
    const done = socket.bytesWritten - pending;
    const now = Date.now();
    if (pending === 0 || done !== lastDone) {
      lastDone = done;
      progressAt = now;
    } else if (now - progressAt >= timeout) {
      stop();
      response.destroy();
    }
  };
  const timer = setInterval(look, Math.max(1, Math.floor(timeout / 4)));
  timer.unref();
  const stop = (): void => {
    clearInterval(timer);
    response.off('close', stop);
  };
  response.once('close', stop);
}
