import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { onRequestHookOf, type RequestHook } from './framework.internals.js';
import { exposeWireBody } from './wire-body.stash.js';
import {
  forbiddenBody,
  matchesEndpoint,
  type BodyInterceptor,
  type HttpPlatform,
  type OperationRefusal,
  type RouteReader,
} from './http.platform.js';

/** Where `trackRoutes` leaves the matched route: a symbol, so no client can set it. */
const ROUTE = Symbol('nestjs-batch.route');
type Routed = IncomingMessage & { [ROUTE]?: string };

/** The parts of a Fastify request used here: `routeOptions` is the route the router matched. */
interface FastifyRequestLike {
  raw: IncomingMessage;
  params?: unknown;
  /** Fastify 4.10 and later; `url` is the matched route's pattern, undefined when none matched. */
  routeOptions?: { url?: string };
}

interface FastifyReplyLike {
  raw: ServerResponse;
  hijack(): void;
  code(statusCode: number): FastifyReplyLike;
  header(name: string, value: string): FastifyReplyLike;
  getHeader(name: string): unknown;
  send(payload: string | Buffer): unknown;
}

type Done = (error?: unknown) => void;

/** The parts of a Fastify 4/5 instance used here, typed locally: Fastify is an optional peer. */
export interface FastifyInstanceLike {
  routing(request: IncomingMessage, response: ServerResponse): void;
  addHook(
    name: 'preParsing',
    hook: (
      request: FastifyRequestLike,
      reply: FastifyReplyLike,
      payload: Readable,
      done: (error?: unknown, payload?: Readable) => void,
    ) => void,
  ): unknown;
  addHook(
    name: 'onRequest',
    hook: (request: FastifyRequestLike, reply: FastifyReplyLike, done: Done) => void,
  ): unknown;
}

/**
 * The Nest adapter around the instance, when it has a request hook of its own: FastifyAdapter
 * runs it in the first `onRequest` hook it adds, before middie.
 */
export interface FastifyAdapterLike {
  setOnRequestHook?(hook: RequestHook): void;
}

/**
 * @nestjs/platform-fastify. `fastify.routing` is the handler Fastify's server calls for each
 * request, and the one `fastify.inject()` calls too: handing it a real Node request/response
 * pair runs the whole lifecycle (hooks, middie middleware, the route) as for a request that
 * came over the network, without light-my-request's stand-in objects (measured in the
 * benchmark against `inject()`).
 */
export class FastifyPlatform implements HttpPlatform {
  constructor(
    private readonly fastify: FastifyInstanceLike,
    private readonly adapter: FastifyAdapterLike = {},
  ) {}

  get listener(): FastifyInstanceLike['routing'] {
    return (request, response) => this.fastify.routing(request, response);
  }

  /**
   * `reply.send` of the bytes: Fastify writes a Buffer as it is, with its Content-Length, after
   * the app's `onSend` hooks, where a stream (Nest's way with a `StreamableFile`) costs a
   * `Readable` and its piping per reply.
   */
  sendWhole(reply: object, body: Buffer, type: string): boolean {
    const fastifyReply = reply as FastifyReplyLike;
    if (fastifyReply.getHeader('content-type') === undefined) {
      fastifyReply.header('content-type', type);
    }
    fastifyReply.code(200).send(body);
    return true;
  }

  /**
   * Fastify keeps the matched route on its own request object, which the Node request does not
   * lead back to: an `onRequest` hook (Fastify routes before its first hook) copies the pattern
   * onto the requests `wanted` picks.
   */
  trackRoutes(wanted: (request: IncomingMessage) => boolean): RouteReader {
    this.fastify.addHook('onRequest', (request, _reply, done) => {
      const raw = request.raw as Routed;
      if (wanted(raw)) raw[ROUTE] = request.routeOptions?.url;
      done();
    });
    return (request) => (request as Routed)[ROUTE];
  }

  /**
   * A `preParsing` hook: after `onRequest` hooks and middleware, before the content-type
   * parsers. Fastify applies hooks to routes when it gets ready, so adding it after Nest
   * registered its routes is enough. The batch route is told by the route the router matched,
   * not by the url: every spelling the router folds into it (`/api//batch`, `/api/batch;x`,
   * `/api/b%61tch`) is read here, under `maxBodyBytes`.
   */
  interceptBody(endpoints: readonly string[], intercept: BodyInterceptor): void {
    // A callback hook, not an async one: it runs for every request and every operation of every
    // batch, and an async hook costs each of them a promise and a turn of the microtask queue.
    this.fastify.addHook('preParsing', (request, reply, _payload, done) => {
      const raw = request.raw;
      const route = request.routeOptions ? request.routeOptions.url : raw.url;
      if (raw.method !== 'POST' || !matchesEndpoint(route, endpoints)) {
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
        // What Fastify's parsers would have set, for the app's hooks, guards and interceptors.
        exposeWireBody(request, raw);
        done(undefined, Readable.from([]));
      }, done);
    });
  }

  /**
   * Fastify routes before its first hook, with every router option applied (slashes folded,
   * `;` cut, case folded, percent-decoding, `rewriteUrl`, constraints): the check weighs the
   * matched route's path, rebuilt from its pattern and params, not the spelling. It runs in the
   * adapter's request hook, which Nest runs before middie (Nest middleware and `app.use()`),
   * and runs a hook set there before, after it. Without that hook (an adapter of its own), a
   * plain `onRequest` hook: then middleware registered before it runs first.
   */
  refuseOperations(refuse: OperationRefusal): void {
    const check = (request: FastifyRequestLike, reply: FastifyReplyLike): boolean => {
      const raw = request.raw;
      const message = refuse(raw, () => {
        const paths = [raw.url ?? '/'];
        const pattern = request.routeOptions?.url;
        if (pattern !== undefined) paths.push(routePath(pattern, request.params) ?? pattern);
        return paths;
      });
      if (message === undefined) return false;
      reply.code(403).header('content-type', 'application/json; charset=utf-8');
      reply.send(forbiddenBody(message));
      return true;
    };
    const { adapter } = this;
    if (typeof adapter.setOnRequestHook === 'function') {
      const before = onRequestHookOf(adapter);
      adapter.setOnRequestHook(function (this: unknown, ...args: Parameters<RequestHook>) {
        const [request, reply, done] = args as unknown as [
          FastifyRequestLike,
          FastifyReplyLike,
          Done,
        ];
        if (check(request, reply)) return undefined;
        return before ? before.apply(this, args) : done();
      });
      return;
    }
    this.fastify.addHook('onRequest', (request, reply, done) => {
      if (!check(request, reply)) done();
    });
  }
}

/**
 * The path a find-my-way pattern matched, rebuilt from the params the router extracted (decoded,
 * with the router's options applied): `/admin/:id` and `{ id: '1' }` give `/admin/1`. Undefined
 * when a param is missing, for a pattern this does not read.
 */
export function routePath(pattern: string, params: unknown): string | undefined {
  const values = (typeof params === 'object' && params !== null ? params : {}) as Record<
    string,
    unknown
  >;
  const missing: string[] = [];
  // `::` is a literal colon; a param ends at `/`, `-`, `.` (multi-param segments) or its regex.
  const path = pattern.replace(
    /::|\*|:([^/:\-.(?]+)(\((?:[^()\\]|\\.|\([^()]*\))*\))?(\?)?/g,
    (token, name: string | undefined, _regex: string | undefined, optional: string | undefined) => {
      if (token === '::') return ':';
      const value = values[name ?? '*'];
      if (typeof value === 'string') return value;
      if (optional) return '';
      missing.push(token);
      return token;
    },
  );
  return missing.length > 0 ? undefined : path;
}
