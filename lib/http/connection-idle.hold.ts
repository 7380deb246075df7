import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

/**
 * The batch connection's idle timer (`server.timeout`, Fastify's `connectionTimeout`), held off
 * while the batch waits on its operations.
 *
 * Directly, each request has a connection and a timer of its own, and only a request silent for
 * longer than the limit is dropped. A batch's connection is silent while its operations run (a
 * JSON reply is written at the end), so its timer would drop every answer of a batch whose
 * operations, each in time, took longer together. Each operation's connection carries the timer
 * instead (the operation's socket arms `server.timeout`). The batch's is back when the batch
 * waits on its client: while its reply is written, and while its operations wait for a streamed
 * reply's reader to catch up, so a client that stops reading is still dropped.
 */
export interface ConnectionIdleHold {
  /** The batch waits on its operations: the connection is not timed. */
  readonly take: () => void;
  /**
   * The batch waits on its client: the connection is timed again, unless another batch on it
   * holds it, or Node armed a timer of its own meanwhile (the keep-alive timer of an answer).
   */
  readonly release: () => void;
  /** Released for good: a later `take` does nothing. */
  readonly close: () => void;
}

/** How one connection's timer is held: by how many batches, and the timeout to restore. */
interface Held {
  readonly idle: number;
  holders: number;
}

type TimedSocket = Socket & { timeout?: number };

/** Batches pipelined on one connection run together: the timer is back once none holds it. */
const held = new WeakMap<TimedSocket, Held>();

const NONE: ConnectionIdleHold = {
  take: () => undefined,
  release: () => undefined,
  close: () => undefined,
};

/**
 * A hold on the batch request's connection timer, taken at once, and closed at the latest when
 * the batch's response ends (whoever ends it: an exception filter may answer a batch that runs).
 * HTTP/2 times sessions, not a request's silence (a slow request on a session is not dropped):
 * left alone.
 */
export function holdConnectionIdle(
  request: IncomingMessage,
  response: NodeJS.EventEmitter,
): ConnectionIdleHold {
  const socket = request.socket as TimedSocket | null;
  if (request.httpVersionMajor !== 1 || !socket) return NONE;
  const idle = held.get(socket)?.idle ?? socket.timeout;
  if (idle === undefined || idle <= 0) return NONE;
  let holding = false;
  let closed = false;
  const hold: ConnectionIdleHold = {
    take: () => {
      if (holding || closed) return;
      holding = true;
      const state = held.get(socket) ?? { idle, holders: 0 };
      held.set(socket, state);
      state.holders++;
      // Whoever holds it: Node arms the timer again for each request the connection brings.
      if (socket.timeout !== 0) socket.setTimeout(0);
    },
    release: () => {
      if (!holding) return;
      holding = false;
      const state = held.get(socket);
      if (!state || --state.holders > 0) return;
      held.delete(socket);
      // A timer Node armed since (the keep-alive timer once an answer finished) stays.
      if (socket.timeout === 0) socket.setTimeout(state.idle);
    },
    close: () => {
      closed = true;
      hold.release();
    },
  };
  hold.take();
  response.once('close', hold.close);
  return hold;
}

/**
 * `readyToStart`, with the connection timed while operations wait for a streamed reply's reader
 * to catch up: the batch then waits on its client, as a direct response whose client stops
 * reading does.
 */
export function timedWhileBehind(
  idle: ConnectionIdleHold,
  readyToStart: () => PromiseLike<void> | undefined,
): () => PromiseLike<void> | undefined {
  return () => {
    const behind = readyToStart();
    if (behind === undefined) return undefined;
    idle.release();
    return behind.then(idle.take);
  };
}
