import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

const NOTHING = (): void => undefined;

/**
 * Stops the batch connection's idle timer (`server.timeout`, Fastify's `connectionTimeout`)
 * while the operations run, and gives what starts it again once they have all answered.
 *
 * Directly, each request has a connection and a timer of its own, and only a request silent for
 * longer than the limit is dropped. The batch's connection is silent while its operations run (a
 * JSON reply is written at the end), so its timer would drop every answer of a batch whose
 * operations, each in time, took longer together. Each operation's connection carries the timer
 * instead (the operation's socket arms `server.timeout`); the batch's is back for the reply, so a
 * client that stops reading it is still dropped. HTTP/2 times streams and sessions otherwise:
 * left alone.
 */
export function suspendConnectionIdle(request: IncomingMessage): () => void {
  const socket = request.socket as (Socket & { timeout?: number }) | null;
  const idle = socket?.timeout;
  if (request.httpVersionMajor !== 1 || !socket || idle === undefined || idle <= 0) return NOTHING;
  socket.setTimeout(0);
  let resumed = false;
  return () => {
    if (resumed) return;
    resumed = true;
    socket.setTimeout(idle);
  };
}
