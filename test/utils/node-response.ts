import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Node's response under either adapter's reply: Express's is itself, Fastify's is `reply.raw`.
 * Fastify still sends the reply: for a handler that only sets headers on it, or reads it.
 */
export function nodeResponseOf(reply: object): ServerResponse {
  return ('raw' in reply ? reply.raw : reply) as ServerResponse;
}

/**
 * Node's response, for a handler that writes it itself: on Fastify the reply is hijacked, so
 * Fastify neither sends it nor answers once the handler returns. `withReplyHeaders` first copies
 * the headers Fastify hooks set on the reply (CORS, say), as `reply.send` would have written them.
 */
export function takeOverResponse(
  reply: object,
  options: { withReplyHeaders?: boolean } = {},
): ServerResponse {
  if (!('raw' in reply)) return reply as ServerResponse;
  const fastify = reply as { raw: ServerResponse; getHeaders(): object; hijack(): void };
  if (options.withReplyHeaders) {
    for (const [name, value] of Object.entries(fastify.getHeaders()))
      fastify.raw.setHeader(name, value as string);
  }
  fastify.hijack();
  return fastify.raw;
}

/** Node's request under either adapter's: Express's is itself, Fastify's is `request.raw`. */
export function nodeRequestOf(request: object): IncomingMessage {
  return ('raw' in request ? request.raw : request) as IncomingMessage;
}
