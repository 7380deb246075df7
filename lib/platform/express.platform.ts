import type { IncomingMessage, ServerResponse } from 'node:http';
import { matchesEndpoint, type BodyInterceptor, type HttpPlatform } from './http.platform.js';

type Middleware = (request: IncomingMessage, response: ServerResponse, next: () => void) => void;

/** The parts of an Express 5 (or 4) app used here. */
export interface ExpressApp {
  (request: IncomingMessage, response: ServerResponse): void;
  use(handler: Middleware): unknown;
  router?: { stack?: unknown[] };
  _router?: { stack?: unknown[] };
}

/** @nestjs/platform-express: the Express app is itself the request listener. */
export class ExpressPlatform implements HttpPlatform {
  constructor(private readonly app: ExpressApp) {}

  get listener(): ExpressApp {
    return this.app;
  }

  /**
   * A middleware moved to the front of the router stack: Nest registers its body parsers before
   * any module is initialised, and Express has no other way to run something before them.
   */
  interceptBody(endpoints: readonly string[], intercept: BodyInterceptor): void {
    this.app.use((request, response, next) => {
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
        if (goOn) next();
      });
    });
    const stack = (this.app.router ?? this.app._router)?.stack;
    if (stack) stack.unshift(stack.pop());
  }
}
