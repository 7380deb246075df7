import { isUtf8 } from 'node:buffer';
import { JSON_MEDIA_TYPE, TEXT_MEDIA_TYPE } from '../batch.constants.js';
import { jsonStringBytes, jsonTextBytes } from '../validation/json-string.size.js';

/** A response body as a batch entry carries it. */
export interface DecodedBody {
  readonly body?: unknown;
  readonly bodyEncoding?: 'base64';
  /** Bytes `body` takes written as a JSON string, quotes included, when it is a string. */
  readonly written?: number;
}

/**
 * Turns captured bytes into an entry's body: JSON parsed, text as text, anything else base64, so
 * nothing is lost. A body that claims JSON but does not parse is given as text; a body still
 * content-encoded is always base64.
 *
 * Text is given as text only when it is UTF-8 and JSON writes it in at most twice the bytes
 * base64 would: else base64. Escaped, a NUL byte takes 6 bytes (`\u0000`) and an invalid UTF-8 byte 3
 * (U+FFFD), so a body of either, which is binary whatever its type says, would make the reply
 * several times larger than the bytes the caps counted; base64 takes 4 for 3, and keeps every
 * byte, where U+FFFD would not.
 *
 * Returns undefined, having made no string of it, when the body given as a string would take
 * more than `maxWritten` bytes written: what a reply cannot hold costs no decoding.
 */
export function decodeResponseBody(
  bytes: Buffer,
  contentType: string | undefined,
  /** Still content-encoded (a coding not decoded here): bytes whatever the type says. */
  encoded = false,
  /** The same body as the string the app wrote, when it wrote one (see `DispatchResponse.text`). */
  text?: string,
  maxWritten = Infinity,
): DecodedBody | undefined {
  if (bytes.length === 0) return {};
  if (encoded) return base64(bytes, maxWritten);
  const type = contentType ?? '';
  const json = JSON_MEDIA_TYPE.test(type);
  if (!json && type !== '' && !TEXT_MEDIA_TYPE.test(type)) return base64(bytes, maxWritten);
  if (text === undefined && !isUtf8(bytes)) return base64(bytes, maxWritten);
  if (json && (text !== undefined || mayBeJson(bytes))) {
    const source = text ?? bytes.toString('utf8');
    try {
      return { body: JSON.parse(source) as unknown };
    } catch {
      return textOrBase64(bytes, source, maxWritten);
    }
  }
  return textOrBase64(bytes, text, maxWritten);
}

/** Bytes of `length` bytes in base64, as a JSON string. */
function base64Bytes(length: number): number {
  return Math.ceil(length / 3) * 4 + 2;
}

function base64(bytes: Buffer, maxWritten: number): DecodedBody | undefined {
  const written = base64Bytes(bytes.length);
  if (written > maxWritten) return undefined;
  return { body: bytes.toString('base64'), bodyEncoding: 'base64', written };
}

/**
 * The body as text unless JSON writes it in more than twice base64's bytes; then in base64.
 * Quotes, backslashes and line breaks take 2 bytes escaped, so ordinary text (CSV, short lines)
 * stays text, as a client expects it; control bytes take 6, and a body made of them goes base64.
 */
function textOrBase64(
  bytes: Buffer,
  text: string | undefined,
  maxWritten: number,
): DecodedBody | undefined {
  const asText = 2 * base64Bytes(bytes.length);
  // Counted on the bytes when there is no string yet; the count stops past the bound.
  const written = text === undefined ? jsonTextBytes(bytes, asText) : jsonStringBytes(text, asText);
  if (written > asText) return base64(bytes, maxWritten);
  if (written > maxWritten) return undefined;
  return { body: text ?? bytes.toString('utf8'), written };
}

/** JSON text starts with `{`, `[`, `"`, a digit, `-`, `t`, `f` or `n` after any whitespace. */
const JSON_START = /^[\s]*[[{"\-0-9tfn]/;

/** False when `bytes` cannot be JSON by their first characters: then they are not parsed. */
function mayBeJson(bytes: Buffer): boolean {
  return JSON_START.test(bytes.subarray(0, 64).toString('latin1'));
}
