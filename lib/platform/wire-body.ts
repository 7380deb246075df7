import type { IncomingMessage } from 'node:http';

/*
 * The batch body as the library's body reader took it off the wire, kept on the request. Here,
 * below every other layer, because more than one reads it: the decoder, and the cross-site rule,
 * which must judge the Content-Type the request came with (Fastify's hook removes it from the
 * request, so that Fastify parses nothing).
 */

/** The batch request's body as it came off the wire, before any format looks at it. */
export interface WireBody {
  readonly contentType: string | undefined;
  readonly contentEncoding: string | undefined;
  readonly bytes: Buffer;
}

const WIRE_BODY = Symbol('nestjs-batch.wire-body');
type Stashed = IncomingMessage & { [WIRE_BODY]?: WireBody };

/** Keeps the body on the request for the batch controller. */
export function stashWireBody(request: IncomingMessage, bytes: Buffer): void {
  const header = (name: string): string | undefined => {
    const value = request.headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  };
  (request as Stashed)[WIRE_BODY] = {
    contentType: header('content-type'),
    contentEncoding: header('content-encoding'),
    bytes,
  };
}

/** The body {@link stashWireBody} kept, or undefined when the framework's parsers read it. */
export function wireBodyOf(request: IncomingMessage): WireBody | undefined {
  return (request as Stashed)[WIRE_BODY];
}
