import { maxHeaderSize } from 'node:http';
import { FORBIDDEN_OPERATION_HEADERS } from '../batch.constants.js';

/** RFC 9110 token: what an HTTP parser accepts as a header name. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Characters an HTTP parser refuses in a header value (CR, LF, NUL and other controls but tab). */
// eslint-disable-next-line no-control-regex
const INVALID_VALUE = /[\u0000-\u0008\u000a-\u001f\u007f]/;

const FORBIDDEN: ReadonlySet<string> = new Set(FORBIDDEN_OPERATION_HEADERS);

/** Why a header name cannot be used by an operation, or undefined when it can. */
export function headerNameProblem(name: string): string | undefined {
  if (!TOKEN.test(name) || name === '__proto__') {
    return `"${name}" is not a valid header name`;
  }
  if (FORBIDDEN.has(name.toLowerCase())) {
    return `header "${name}" is set by the batch endpoint and may not be given per operation`;
  }
  return undefined;
}

/** True when an HTTP parser would accept the value. */
export function isValidHeaderValue(value: string): boolean {
  return !INVALID_VALUE.test(value);
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
