import { maxHeaderSize } from 'node:http';
import {
  BROWSER_ORIGIN_HEADERS,
  FORBIDDEN_OPERATION_HEADERS,
  FORWARDING_HEADERS,
  METHOD_OVERRIDE_HEADERS,
} from '../batch.constants.js';

/** RFC 9110 token: what an HTTP parser accepts as a header name. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Characters an HTTP parser refuses in a header value (CR, LF, NUL and other controls but tab). */
// eslint-disable-next-line no-control-regex
const INVALID_VALUE = /[\u0000-\u0008\u000a-\u001f\u007f]/;

const FORBIDDEN: ReadonlySet<string> = new Set(FORBIDDEN_OPERATION_HEADERS);
const FORWARDING: ReadonlySet<string> = new Set(FORWARDING_HEADERS);
const METHOD_OVERRIDE: ReadonlySet<string> = new Set(METHOD_OVERRIDE_HEADERS);

/**
 * True for a header a proxy sets to say who the client is (see {@link FORWARDING_HEADERS}):
 * those listed, and every `x-forwarded-*` one, since proxies and frameworks keep adding them
 * (`-port`, `-prefix`, `-ssl`, `-scheme`, ...). `name` in lower case.
 */
export function isForwardingHeader(name: string): boolean {
  return name.startsWith('x-forwarded-') || FORWARDING.has(name);
}

const BROWSER_ORIGIN: ReadonlySet<string> = new Set(BROWSER_ORIGIN_HEADERS);

/**
 * True for a header by which a browser says which origin sent a request (see
 * {@link BROWSER_ORIGIN_HEADERS}): those listed, and every `sec-fetch-*` one. `name` in lower case.
 */
export function isBrowserOriginHeader(name: string): boolean {
  return name.startsWith('sec-fetch-') || BROWSER_ORIGIN.has(name);
}

/** True for a header by which middleware changes a request's method. `name` in lower case. */
export function isMethodOverrideHeader(name: string): boolean {
  return METHOD_OVERRIDE.has(name);
}

/** Why a header name cannot be used by an operation, or undefined when it can. */
export function headerNameProblem(name: string): string | undefined {
  if (!TOKEN.test(name) || name === '__proto__') {
    return `"${name}" is not a valid header name`;
  }
  const lower = name.toLowerCase();
  if (FORBIDDEN.has(lower)) {
    return `header "${name}" is set by the batch endpoint and may not be given per operation`;
  }
  if (isForwardingHeader(lower)) {
    return `header "${name}" is a forwarding header: every operation carries the batch request's own (client address, scheme, host) and may not set one`;
  }
  if (isBrowserOriginHeader(lower)) {
    return `header "${name}" is set by the browser: every operation carries the batch request's own (which origin sent it) and may not set one`;
  }
  // Fetch forbids scripts every `Sec-` header: the client hints and Global Privacy Control's
  // opt-out are the browser's word, which operations inherit and a page must not replace.
  if (lower.startsWith('sec-')) {
    return `header "${name}" is set by the browser (no script can set a Sec- header): operations inherit the batch request's (inheritHeaders) and may not set one`;
  }
  if (isMethodOverrideHeader(lower)) {
    return `header "${name}" would change the operation's method after the exclusions were checked; give the method itself`;
  }
  return undefined;
}

/**
 * Anything above U+00FF. A real request carries header values as bytes, which Node's HTTP
 * parser reads as latin1, one character per byte; a JSON batch can say more, and the app would
 * get a value no request of its own could have (Node refuses to send one: ERR_INVALID_CHAR).
 * Non-latin1 text travels percent-encoded or RFC 8187-encoded, as in a real request.
 */
const NOT_LATIN1 = /[\u0100-\u{10ffff}]/u;

/**
 * Why a header value could not travel in a real request, or undefined when it could: the
 * message completes `header "name" ...`.
 */
export function headerValueProblem(value: string): string | undefined {
  if (INVALID_VALUE.test(value)) return 'holds a control character (CR, LF, NUL, ...)';
  if (NOT_LATIN1.test(value)) {
    return "holds a character above U+00FF: header values are latin1 bytes, as Node's HTTP parser reads them (percent-encode the rest)";
  }
  return undefined;
}

/**
 * Most bytes an operation's own headers may take: the limit this Node process puts on the header
 * block of a request of its own (`--max-http-header-size`, 16 KiB by default).
 */
export const MAX_OPERATION_HEADER_BYTES = maxHeaderSize;

/** Bytes of a header block as it would travel: `name: value\r\n` per header. */
export function headerBlockBytes(headers: Readonly<Record<string, string>>): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(headers)) {
    bytes += Buffer.byteLength(name) + Buffer.byteLength(value) + 4;
  }
  return bytes;
}
