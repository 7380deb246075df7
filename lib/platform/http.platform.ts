import type { IncomingMessage, ServerResponse } from 'node:http';

/** Where a request enters a Node HTTP app: what a server calls on its `'request'` event. */
export type RequestListener = (request: IncomingMessage, response: ServerResponse) => void;

/**
 * Looks at a batch request before the app reads its body. Resolves true to let the app go on,
 * false when it answered the request itself (or the client is gone).
 */
export type BodyInterceptor = (
  request: IncomingMessage,
  response: ServerResponse,
) => Promise<boolean>;

/**
 * Why a request (called for every one: the callback tells operations apart) may not reach its
 * route, or undefined when it may. `paths()` gives what the check weighs: the url and, where the
 * platform knows it, the path of the route the router matched, as the router read it; it is a
 * function so that a direct request, answered first, pays nothing for it.
 */
export type OperationRefusal = (
  request: IncomingMessage,
  paths: () => readonly string[],
) => string | undefined;

/**
 * What the library needs from an HTTP adapter. The only place where Express and Fastify differ:
 * everything else works on Node's own request and response objects.
 */
export interface HttpPlatform {
  /** The app's request listener, through which every operation enters as a real request. */
  readonly listener: RequestListener;
  /**
   * Runs `intercept` on each POST whose path is one of `endpoints` (lower case, no trailing slash)
   * before any body parser of the app, so the library reads the batch body itself.
   */
  interceptBody(endpoints: readonly string[], intercept: BodyInterceptor): void;
  /**
   * Answers 403 to each batch operation `refuse` gives a reason for, before any of the app's
   * middleware runs; where the adapter routes before its hooks (Fastify), with the matched route.
   */
  refuseOperations(refuse: OperationRefusal): void;
  /**
   * Gives a reader of the route pattern (`/items/:id`) a request matched, for the requests
   * `wanted` picks, once the app has handled them; undefined when none matched. Called once, at
   * bootstrap, and only when something (tracing) needs the route: Fastify then adds a hook.
   */
  trackRoutes(wanted: (request: IncomingMessage) => boolean): RouteReader;
  /**
   * Sends `body` as the whole 200 reply of a handler that took the response (`@Res()`), typed
   * `type` unless the app typed it already, through the framework's own reply (its hooks run).
   * False where the adapter's stream of a `StreamableFile` is as good: the caller sends that.
   */
  sendWhole(reply: object, body: Buffer, type: string): boolean;
}

/** The route pattern a request matched, once handled; undefined when none matched. */
export type RouteReader = (request: IncomingMessage) => string | undefined;

/** The 403 of a refused operation, shaped like Nest's own error responses. */
export function forbiddenBody(message: string): string {
  // The `reason` of the library's error bodies (BatchEntryFailureReason).
  return JSON.stringify({ statusCode: 403, error: 'Forbidden', message, reason: 'excluded' });
}

/**
 * True when the path of `url` (a request's, or the pattern of the route it matched) is one of
 * `endpoints`, compared in lower case and without a trailing slash.
 */
export function matchesEndpoint(url: string | undefined, endpoints: readonly string[]): boolean {
  const path = (url ?? '').split('?', 1)[0] ?? '';
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  return endpoints.includes(trimmed.toLowerCase());
}
