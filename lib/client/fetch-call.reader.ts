/**
 * How a `client.fetch` call reads as a batch operation: what a batch can carry of a url and an
 * init or a Request, and the request headers and url the app then sees, as a direct fetch
 * would have sent them.
 */
import {
  BATCH_METHODS,
  BROWSER_ORIGIN_HEADERS,
  FORBIDDEN_OPERATION_HEADERS,
  JSON_MEDIA_TYPE,
} from '../batch.constants.js';
import type { BatchOperation } from '../interfaces/batch-operation.interface.js';
import { asksForEventStream } from './call-route.rules.js';
import type { FetchCredentials, FetchInit, FetchInput } from './client.types.js';
import { base64Of, escapeResultOpen, writtenByAClient } from './literal-text.escape.js';

/** The methods an operation may have. */
export const METHODS: ReadonlySet<string> = new Set(BATCH_METHODS);

/** A call's `redirect` mode. */
export type RedirectMode = 'follow' | 'error' | 'manual';
/**
 * Headers a call cannot give its operation: the batch request's own, and those by which the
 * browser says who sent it (which a browser's fetch drops from a call too).
 */
export const FORBIDDEN: ReadonlySet<string> = new Set([
  ...FORBIDDEN_OPERATION_HEADERS,
  ...BROWSER_ORIGIN_HEADERS,
]);
export const CREDENTIALS: ReadonlySet<string> = new Set(['omit', 'same-origin', 'include']);

/** How a batch request is sent: what its calls share, so that batching changes nothing they send. */
export interface Transport {
  readonly credentials: FetchCredentials;
  readonly mode: 'cors' | 'same-origin';
}

/** A call a batch can carry, as read from its url and init. */
export interface BatchableCall {
  readonly operation: BatchOperation;
  /** The call's url, for its Response. */
  readonly url: string;
  /** Undefined when the call gave none: the client's then. */
  readonly credentials: FetchCredentials | undefined;
  readonly mode: Transport['mode'];
  readonly cache: string;
  readonly signal: AbortSignal | undefined;
  readonly redirect: RedirectMode;
}

/** Methods fetch upper-cases (others are sent as written: `patch` stays `patch`). */
const NORMALIZED_METHODS: ReadonlySet<string> = new Set([
  'DELETE',
  'GET',
  'HEAD',
  'OPTIONS',
  'POST',
  'PUT',
]);
const CACHE_MODES: ReadonlySet<string> = new Set([
  'default',
  'no-store',
  'reload',
  'no-cache',
  'force-cache',
]);
/** Init members whose checks and effects only a Request has: such calls take the long way. */
const REQUEST_ONLY_INIT = [
  'window',
  'integrity',
  'keepalive',
  'duplex',
  'referrer',
  'referrerPolicy',
  'redirect',
  'priority',
  'dispatcher',
] as const;
/** Headers a browser's Request drops (fetch's forbidden request headers), by prefix or name. */
const BROWSER_FORBIDDEN =
  /^(?:proxy-|sec-)|^(?:accept-charset|accept-encoding|access-control-request-headers|access-control-request-method|access-control-request-private-network|connection|content-length|cookie|cookie2|date|dnt|expect|host|keep-alive|origin|referer|set-cookie|te|trailer|transfer-encoding|upgrade|via|x-http-method|x-http-method-override|x-method-override)$/;

/**
 * The operation of a call made with a url and an init of plain members (a string body or none),
 * read as a Request would read it; undefined for anything else, which then goes through a
 * Request (another origin, another body, an init member only a Request checks, a header a
 * browser would drop, a method fetch would not normalize...).
 */
export function quickCall(
  input: FetchInput,
  init: FetchInit | undefined,
  endpoint: URL,
): BatchableCall | undefined {
  if (typeof input !== 'string' && !(input instanceof URL)) return undefined;
  if (init && REQUEST_ONLY_INIT.some((name) => (init as Record<string, unknown>)[name] != null)) {
    return undefined;
  }
  let method = init?.method ?? 'GET';
  if (NORMALIZED_METHODS.has(method.toUpperCase())) method = method.toUpperCase();
  const body = init?.body ?? null;
  const mode = init?.mode ?? 'cors';
  // Not in Node's RequestInit type, though its Request reads it.
  const cache = (init as { cache?: string } | undefined)?.cache ?? 'default';
  const credentials = init?.credentials;
  const signal = init?.signal ?? undefined;
  if (
    !METHODS.has(method) ||
    (body !== null && (typeof body !== 'string' || method === 'GET' || method === 'HEAD')) ||
    (mode !== 'cors' && mode !== 'same-origin') ||
    !CACHE_MODES.has(cache) ||
    (credentials !== undefined && !CREDENTIALS.has(credentials)) ||
    (signal !== undefined && !(signal instanceof AbortSignal))
  ) {
    return undefined;
  }
  let url: URL;
  let headers: Headers;
  try {
    url = new URL(input, endpoint);
    headers = new Headers(init?.headers);
  } catch {
    return undefined; // The Request throws fetch's own error.
  }
  if (url.origin !== endpoint.origin || url.username !== '' || url.password !== '') {
    return undefined;
  }
  for (const name of headers.keys()) if (BROWSER_FORBIDDEN.test(name)) return undefined;
  if (asksForEventStream(headers.get('accept'))) return undefined;
  if (typeof body === 'string' && !headers.has('content-type')) {
    headers.set('content-type', 'text/plain;charset=UTF-8');
  }
  const operationHeaders = headersOf(headers);
  // A header holding `{result=`: the Request's path tells a reference from text.
  for (const name in operationHeaders) {
    if (operationHeaders[name]?.includes('{result=')) return undefined;
  }
  addFetchHeaders(operationHeaders, cache);
  const operation: BatchOperation = {
    method: method as BatchOperation['method'],
    url: targetOf(url),
  };
  if (hasAny(operationHeaders)) operation.headers = operationHeaders;
  if (typeof body === 'string') operation.body = body;
  return { operation, url: url.href, credentials, mode, cache, signal, redirect: 'follow' };
}

/**
 * A text body holding references of the client's own, as the operation carries it: JSON
 * parsed, so that a string that is one reference takes the JSON type of its value, as the
 * server renders references in a JSON body. Any other body is the text as written (the server
 * sends a string body as its bytes), so the app reads what the page wrote (a 64-bit id,
 * duplicate keys, spacing).
 */
export function parsedIfJson(text: string, type: string): unknown {
  if (!JSON_MEDIA_TYPE.test(type)) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * The operation a Request stands for, or undefined when a batch cannot carry it: a method the
 * server refuses, or a body that is neither JSON nor text.
 */
export async function toOperation(request: Request, url: URL): Promise<BatchOperation | undefined> {
  if (!METHODS.has(request.method)) return undefined;
  // A browser's Request drops `Sec-` headers; one still here (Node) is the call's own, which an
  // operation may not carry (the server refuses it): the call goes as it is.
  for (const name of request.headers.keys()) if (name.startsWith('sec-')) return undefined;
  const headers = headersOf(request.headers);
  addFetchHeaders(headers, request.cache);
  const operation: BatchOperation = {
    method: request.method as BatchOperation['method'],
    url: targetOf(url),
  };
  if (hasAny(headers)) operation.headers = headers;
  if (request.body === null) return operation;
  const type = request.headers.get('content-type') ?? '';
  if (!JSON_MEDIA_TYPE.test(type) && !/^text\/|^application\/x-www-form-urlencoded/i.test(type)) {
    return undefined;
  }
  const bytes = new Uint8Array(await request.arrayBuffer());
  const text = utf8Of(bytes);
  if (text === undefined) {
    // Not UTF-8 (a Latin-1 form, say): its bytes, which the batch's JSON cannot hold as text.
    return { ...operation, body: base64Of(bytes), bodyEncoding: 'base64' } as BatchOperation;
  }
  operation.body = text;
  return operation;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The text of UTF-8 bytes, a BOM kept; undefined when they are not UTF-8. */
function utf8Of(bytes: Uint8Array): string | undefined {
  try {
    return UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * The request headers the Fetch standard adds when the call set none (Accept, and those of its
 * cache mode), so that the app and the caches behind the batch endpoint see what they would
 * have seen from a direct fetch.
 */
function addFetchHeaders(headers: Record<string, string>, cache: string): void {
  const add = (name: string, value: string): void => {
    if (!Object.hasOwn(headers, name)) headers[name] = value;
  };
  // Not a cache mode's, but fetch's for every call: Accept `*/*` unless the call set one.
  add('accept', '*/*');
  if (cache === 'no-store' || cache === 'reload') {
    add('pragma', 'no-cache');
    add('cache-control', 'no-cache');
  } else if (cache === 'no-cache') {
    add('cache-control', 'max-age=0');
  }
}

/**
 * A url's path and query as the operation's url, read as written: a Location is the response's,
 * not the caller's, and a `{result=` in it (a query keeps braces unescaped) is no reference to
 * another call of the batch, which the batch would render into it or refuse whole.
 */
export function literalTargetOf(url: URL): string {
  return escapeResultOpen(url.pathname + url.search);
}

/** The path and query of a URL, with every reference URL parsing escaped turned back. */
export function referencesUnescaped(url: URL): string {
  return (url.pathname + url.search).replace(/%7Bresult=(.*?)%7D/gi, (escaped, inner: string) => {
    try {
      return `{result=${decodeURIComponent(inner)}}`;
    } catch {
      return escaped;
    }
  });
}

/**
 * The path and query of a URL, with the references of a client that URL parsing escaped
 * (`%7Bresult=~<client>.<call>:...%7D`) turned back into `{result=...}`. Anything else stays
 * byte for byte: a `%7Bresult=` the page wrote, or URL parsing made of its text, is its text.
 */
export function targetOf(url: URL): string {
  return (url.pathname + url.search).replace(
    /%7Bresult=(~[0-9a-z]+\.\d+):(.*?)%7D/g,
    (escaped, name: string, path: string) => {
      if (!writtenByAClient(name)) return escaped;
      try {
        return `{result=${name}:${decodeURIComponent(path)}}`;
      } catch {
        return escaped;
      }
    },
  );
}

/** Whether an operation has headers to send: none is no `headers` member, as a batch writes it. */
export function hasAny(headers: Record<string, string>): boolean {
  for (const _name in headers) return true;
  return false;
}

/** Headers as the server takes them, without those only the batch request may carry. */
export function headersOf(headers: Headers): Record<string, string> {
  const plain: Record<string, string> = {};
  headers.forEach((value, name) => {
    if (!FORBIDDEN.has(name) && !name.startsWith('sec-fetch-')) plain[name] = value;
  });
  return plain;
}
