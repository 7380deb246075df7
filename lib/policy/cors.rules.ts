import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { isForwardingHeader } from '../validation/header.rules.js';

/*
 * The Fetch standard's CORS rules (https://fetch.spec.whatwg.org/#http-cors-protocol), as a
 * browser applies them to a request a page on another origin makes: which requests it sends
 * without asking (a CORS-safelisted method and headers), what it asks first (the preflight),
 * and what of the answer the page may read. The batch endpoint applies them to each operation of
 * a cross-origin batch, so a batch gives a page no more than the requests themselves would.
 */

/** Fetch metadata of a request no other origin started: the app's own page, or the user. */
const OWN_ORIGIN_FETCH = /^(?:same-origin|none)$/;

/**
 * The origin of the page that made a browser send this batch request, when it is another origin
 * than the app's (a CORS request); undefined for the app's own pages and for clients that are
 * not browsers (no `Origin`). The browser's `Sec-Fetch-Site` decides when present (no page can
 * set it); without it (older browsers), an Origin naming the host of the request's Host header
 * (which no page can set either) is the app's own.
 */
export function crossOriginOf(request: IncomingMessage): string | undefined {
  const origin = single(request.headers.origin)?.trim();
  if (origin === undefined || origin === '') return undefined;
  const site = single(request.headers['sec-fetch-site'])?.trim().toLowerCase();
  if (site !== undefined && site !== '') return OWN_ORIGIN_FETCH.test(site) ? undefined : origin;
  const host = single(request.headers.host) ?? single(request.headers[':authority']);
  // Not the forwarded host, even of a proxy the app trusts: a page that may send custom
  // headers to the batch (a CORS preflight the app allows) would name its own origin there.
  return host !== undefined && namesHost(origin, host) ? undefined : origin;
}

/** Whether `origin` (`scheme://host[:port]`) is on `host`, a Host header's value. */
function namesHost(origin: string, host: string): boolean {
  try {
    const url = new URL(origin);
    // The Host header's default port, if it names one, is the origin's scheme's.
    return url.host === new URL(`${url.protocol}//${host}`).host;
  } catch {
    return false;
  }
}

/** Methods a page may send cross-origin without a preflight. */
const SAFELISTED_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST']);

/**
 * Headers only the browser sets (Fetch's forbidden request-header names, and the `proxy-` and
 * `sec-` prefixes): a page cannot set them, so they never call for a preflight.
 */
const BROWSER_SET: ReadonlySet<string> = new Set([
  'accept-charset',
  'accept-encoding',
  'access-control-request-headers',
  'access-control-request-method',
  'connection',
  'content-length',
  'cookie',
  'cookie2',
  'date',
  'dnt',
  'expect',
  'host',
  'keep-alive',
  'origin',
  'referer',
  'set-cookie',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'via',
]);

/** Bytes Fetch calls CORS-unsafe in a safelisted header's value. */
// eslint-disable-next-line no-control-regex
const UNSAFE_BYTES = /[\u0000-\u0008\u000a-\u001f"():<>?@[\\\]{}\u007f]/;
const LANGUAGE = /^[0-9A-Za-z *,\-.;=]*$/;
const SAFELISTED_CONTENT_TYPES: ReadonlySet<string> = new Set([
  'application/x-www-form-urlencoded',
  'multipart/form-data',
  'text/plain',
]);
const SIMPLE_RANGE = /^bytes=(\d+)-(\d*)$/;

/** Fetch's CORS-safelisted request-header, by name (lower case) and value. */
function isSafelistedRequestHeader(name: string, value: string): boolean {
  if (value.length > 128) return false;
  switch (name) {
    case 'accept':
      return !UNSAFE_BYTES.test(value);
    case 'accept-language':
    case 'content-language':
      return LANGUAGE.test(value);
    case 'content-type': {
      if (UNSAFE_BYTES.test(value)) return false;
      const [essence = ''] = value.split(';');
      return SAFELISTED_CONTENT_TYPES.has(essence.trim().toLowerCase());
    }
    case 'range': {
      const range = SIMPLE_RANGE.exec(value);
      return range !== null && (range[2] === '' || Number(range[1]) <= Number(range[2]));
    }
    default:
      return false;
  }
}

/**
 * The headers of an operation's request a page would have had to set itself and that are not
 * CORS-safelisted, lower case and sorted (as `Access-Control-Request-Headers` lists them). Not
 * counted: what the browser sets itself (`BROWSER_SET`, `sec-*`, `proxy-*`; its User-Agent, as
 * on the batch request), and the forwarding headers, the batch request's connection.
 * @param batch The batch request's headers.
 */
export function corsUnsafeHeaderNames(
  headers: Readonly<Record<string, string>>,
  batch: IncomingHttpHeaders,
): string[] {
  // Fetch also preflights safelisted values of more than 1 KiB together: five names of at most
  // 128 bytes each, without repeats, never reach it.
  const unsafe: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (BROWSER_SET.has(name) || name.startsWith('sec-') || name.startsWith('proxy-')) continue;
    if (isForwardingHeader(name)) continue;
    if (name === 'user-agent' && value === single(batch['user-agent'])) continue;
    if (!isSafelistedRequestHeader(name, value)) unsafe.push(name);
  }
  return unsafe.sort();
}

/** Whether a page's browser would send this request only after a preflight. */
export function needsPreflight(method: string, unsafeHeaders: readonly string[]): boolean {
  return !SAFELISTED_METHODS.has(method) || unsafeHeaders.length > 0;
}

/** A response's headers, as the capture gives them. */
export type ResponseHeaders = Readonly<Record<string, string | string[]>>;

/** One header's value, as a browser reads it: repeated headers joined. */
function headerValue(headers: ResponseHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

function list(headers: ResponseHeaders, name: string): string[] {
  return (headerValue(headers, name) ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/**
 * Fetch's CORS check: why a page of `origin` may not read a response with these headers, or
 * undefined when it may. `credentialed`: the request carried the user's credentials (a cookie,
 * HTTP authentication), which a wildcard does not cover.
 */
export function corsCheckProblem(
  headers: ResponseHeaders,
  origin: string,
  credentialed: boolean,
): string | undefined {
  const allowed = headerValue(headers, 'access-control-allow-origin');
  if (allowed === undefined) return 'it carries no Access-Control-Allow-Origin';
  if (allowed === '*' && !credentialed) return undefined;
  if (allowed === '*') {
    return 'its Access-Control-Allow-Origin is *, which does not cover a request with credentials';
  }
  if (allowed !== origin) return `its Access-Control-Allow-Origin is ${allowed}`;
  if (credentialed && headerValue(headers, 'access-control-allow-credentials') !== 'true') {
    return 'it carries no Access-Control-Allow-Credentials: true, and the request had credentials';
  }
  return undefined;
}

/**
 * Whether a page of another origin sent this batch without credentials, as far as the server
 * can tell: it carries no Cookie, and the app's CORS answer on the batch reply (`replyHeader`:
 * its headers so far, set by the app's CORS middleware before the handler) does not let a page
 * read it with credentials, so a credentialed batch would fail in the page whatever it held.
 * The browser neither sends nor stores cookies for such a request (Fetch, "HTTP-network fetch"),
 * nor for the operations it stands for.
 */
export function sentWithoutCredentials(
  request: IncomingMessage,
  replyHeader: (name: string) => unknown,
): boolean {
  const origin = crossOriginOf(request);
  if (origin === undefined || request.headers.cookie !== undefined) return false;
  const headers: Record<string, string> = {};
  for (const name of ['access-control-allow-origin', 'access-control-allow-credentials']) {
    const value = replyHeader(name);
    if (typeof value === 'string') headers[name] = value;
  }
  return corsCheckProblem(headers, origin, true) !== undefined;
}

/**
 * Why a preflight's answer does not let a page of `origin` send the request, or undefined when
 * it does: an ok status, the CORS check, the method and every unsafe header allowed.
 */
export function preflightProblem(
  response: { readonly statusCode: number; readonly headers: ResponseHeaders },
  origin: string,
  credentialed: boolean,
  method: string,
  unsafeHeaders: readonly string[],
): string | undefined {
  const { statusCode, headers } = response;
  if (statusCode < 200 || statusCode > 299) return `the app answered it ${statusCode}`;
  const cors = corsCheckProblem(headers, origin, credentialed);
  if (cors !== undefined) return cors;
  // Methods compare as written (Fetch: byte-case-sensitive); a wildcard never covers credentials.
  const methods = list(headers, 'access-control-allow-methods');
  if (
    !SAFELISTED_METHODS.has(method) &&
    !methods.includes(method) &&
    (credentialed || !methods.includes('*'))
  ) {
    return `its Access-Control-Allow-Methods does not allow ${method}`;
  }
  const allowed = list(headers, 'access-control-allow-headers').map((n) => n.toLowerCase());
  const wildcard = !credentialed && allowed.includes('*');
  for (const name of unsafeHeaders) {
    // A wildcard never covers Authorization.
    if (allowed.includes(name) || (wildcard && name !== 'authorization')) continue;
    return `its Access-Control-Allow-Headers does not allow the header ${name}`;
  }
  return undefined;
}

/** Response headers any page may read of a response it may read at all (Fetch's safelist). */
const SAFELISTED_RESPONSE_HEADERS: ReadonlySet<string> = new Set([
  'cache-control',
  'content-language',
  'content-length',
  'content-type',
  'expires',
  'last-modified',
  'pragma',
]);

/**
 * Which of a readable cross-origin response's headers a page may read: the safelisted ones and
 * those `Access-Control-Expose-Headers` names (every one for `*`, without credentials).
 */
export function exposedHeaders(
  headers: ResponseHeaders,
  credentialed: boolean,
): (name: string) => boolean {
  const exposed = new Set(
    list(headers, 'access-control-expose-headers').map((n) => n.toLowerCase()),
  );
  if (!credentialed && exposed.has('*')) return () => true;
  return (name) => SAFELISTED_RESPONSE_HEADERS.has(name) || exposed.has(name);
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
