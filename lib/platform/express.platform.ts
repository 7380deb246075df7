import type { IncomingMessage, ServerResponse } from 'node:http';
import { moveLastMiddlewareFirst, type ExpressRouterHolder } from './framework.internals.js';
import { exposeWireBody } from './wire-body.stash.js';
import {
  forbiddenBody,
  matchesEndpoint,
  type BodyInterceptor,
  type HttpPlatform,
  type OperationRefusal,
  type RouteReader,
} from './http.platform.js';

type Middleware = (request: IncomingMessage, response: ServerResponse, next: () => void) => void;

/** The parts of an Express 5 (or 4) app used here. */
export interface ExpressApp extends ExpressRouterHolder {
  (request: IncomingMessage, response: ServerResponse): void;
  use(handler: Middleware): unknown;
}

/** @nestjs/platform-express: the Express app is itself the request listener. */
export class ExpressPlatform implements HttpPlatform {
  constructor(private readonly app: ExpressApp) {}

  get listener(): ExpressApp {
    return this.app;
  }

  /** Express has no hook of its own on the way out: the adapter's stream writes it as well. */
  sendWhole(): boolean {
    return false;
  }

  /**
   * Express leaves the matched route on the request (`req.route`, its path relative to the
   * router the route is on, `req.baseUrl` that router's mount path): nothing to install.
   */
  trackRoutes(): RouteReader {
    return (request) => {
      const { route, baseUrl } = request as IncomingMessage & {
        route?: { path?: unknown };
        baseUrl?: string;
      };
      return typeof route?.path === 'string' ? (baseUrl ?? '') + route.path : undefined;
    };
  }

  /** A middleware at the front of the router stack (see `useFirst`). */
  interceptBody(endpoints: readonly string[], intercept: BodyInterceptor): void {
    this.useFirst((request, response, next) => {
      // readableEnded: someone read the body before us (the layer could not go first).
      if (
        request.method !== 'POST' ||
        request.readableEnded ||
        !matchesEndpoint(request.url, endpoints)
      ) {
        next();
        return;
      }
      void intercept(request, response).then((goOn) => {
        if (!goOn) return;
        // The body is read: the app's parsers see a finished stream and leave `body` alone.
        exposeWireBody(request, request);
        next();
      });
    });
  }

  /**
   * A middleware at the front of the router stack, before the app's own. Express routes after
   * its middleware, and its router reads a path as it comes (no slash or `;` folding, no
   * decoding), matching case and a trailing slash loosely unless told otherwise: the
   * exclusions match at least as loosely, so the url decides here.
   */
  refuseOperations(refuse: OperationRefusal): void {
    this.useFirst((request, response, next) => {
      const message = refuse(request, () => [request.url ?? '/']);
      if (message === undefined) {
        next();
        return;
      }
      const body = forbiddenBody(message);
      response.writeHead(403, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
      });
      response.end(body);
    });
  }

  /**
   * Moved to the front of the router stack: Nest registers its body parsers before any module
   * is initialised, and Express has no other way to run something before them.
   */
  private useFirst(handler: Middleware): void {
    this.app.use(handler);
    moveLastMiddlewareFirst(this.app);
  }
}
