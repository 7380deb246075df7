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
}

/** The request's path, lower case and without a trailing slash, for {@link HttpPlatform}. */
export function matchesEndpoint(url: string | undefined, endpoints: readonly string[]): boolean {
  const path = (url ?? '').split('?', 1)[0] ?? '';
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  return endpoints.includes(trimmed.toLowerCase());
}
