import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { matchesEndpoint, type BodyInterceptor, type HttpPlatform } from './http.platform.js';

/** The parts of a Fastify 4/5 instance used here, typed locally: Fastify is an optional peer. */
export interface FastifyInstanceLike {
  routing(request: IncomingMessage, response: ServerResponse): void;
  addHook(
    name: 'preParsing',
    hook: (
      request: { raw: IncomingMessage },
      reply: { raw: ServerResponse; hijack(): void },
      payload: Readable,
      done: (error?: unknown, payload?: Readable) => void,
    ) => void,
  ): unknown;
}

/**
 * @nestjs/platform-fastify. `fastify.routing` is the handler Fastify's server calls for each
 * request, and the one `fastify.inject()` calls too: handing it a real Node request/response
 * pair runs the whole lifecycle (hooks, middie middleware, the route) as for a request that
 * came over the network, without light-my-request's stand-in objects (measured in the
 * benchmark against `inject()`).
 */
export class FastifyPlatform implements HttpPlatform {
  constructor(private readonly fastify: FastifyInstanceLike) {}

  get listener(): FastifyInstanceLike['routing'] {
    return (request, response) => this.fastify.routing(request, response);
  }

  /**
   * A `preParsing` hook: after `onRequest` hooks and middleware, before the content-type
   * parsers. Fastify applies hooks to routes when it gets ready, so adding it after Nest
   * registered its routes is enough.
   */
  interceptBody(endpoints: readonly string[], intercept: BodyInterceptor): void {
    // A callback hook, not an async one: it runs for every request and every operation of every
    // batch, and an async hook costs each of them a promise and a turn of the microtask queue.
    this.fastify.addHook('preParsing', (request, reply, _payload, done) => {
      const raw = request.raw;
      if (raw.method !== 'POST' || !matchesEndpoint(raw.url, endpoints)) {
        done();
        return;
      }
      intercept(raw, reply.raw).then((goOn) => {
        if (!goOn) {
          reply.hijack();
          done();
          return;
        }
        // The body is read: with no content headers Fastify has nothing left to parse, so the
        // batch reaches the handler whatever its format and is parsed once, by the decoder.
        delete raw.headers['content-type'];
        delete raw.headers['content-length'];
        delete raw.headers['transfer-encoding'];
        done(undefined, Readable.from([]));
      }, done);
    });
  }
}
