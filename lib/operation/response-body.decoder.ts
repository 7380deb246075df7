import { isUtf8 } from 'node:buffer';
import { JSON_MEDIA_TYPE, TEXT_MEDIA_TYPE } from '../batch.constants.js';
import { jsonStringBytes, jsonTextBytes } from '../validation/json-string.size.js';
import type {
  BatchMethod,
  BatchResult,
  DecodedContentEncoding,
} from '../interfaces/batch-operation.interface.js';

/** A response body as a batch entry carries it. */
export interface DecodedBody {
  readonly body?: unknown;
  readonly bodyEncoding?: 'base64';
  /**
   * Bytes the entry writes for `body`: a string's as a JSON string, quotes included; parsed
   * JSON's as the app's text (`json`).
   */
  readonly written?: number;
  /** The JSON text the app wrote, checked to parse to `body`: written as it came. */
  readonly json?: string;
}

/**
 * A result whose body the app sent as JSON text: the text is kept beside the parsed body, so the
 * reply writes the app's bytes (key order, numbers, spacing) instead of stringifying the value
 * again. Kept in a private field: the result's shape is the plain `BatchResult`'s for code that
 * reads, spreads, serialises or compares it, and a copy simply drops the text.
 */
export class JsonTextResult implements BatchResult {
  body: unknown;
  decodedContentEncoding?: DecodedContentEncoding;
  readonly #text: string;
  readonly #of: unknown;

  constructor(
    public method: BatchMethod,
    public url: string,
    public code: number,
    public headers: Record<string, string | string[]>,
    body: unknown,
    text: string,
  ) {
    this.body = body;
    this.#text = text;
    this.#of = body;
  }

  /**
   * The app's JSON text of `result.body`, when it came as JSON text and the body is still the
   * value parsed from it (a body replaced since then is written as the new value).
   */
  static textOf(result: object): string | undefined {
    return #text in result && result.#of === result.body ? result.#text : undefined;
  }
}

/** The app's JSON text of a result's body: see {@link JsonTextResult}. */
export function jsonTextOf(result: object): string | undefined {
  return JsonTextResult.textOf(result);
}

/**
 * Turns captured bytes into an entry's body: JSON parsed (and its text kept, which the reply
 * writes as it came), text as text, anything else base64, so nothing is lost. A body that claims
 * JSON but does not parse is given as text; a body still content-encoded is always base64.
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
      // Parsed once: to know the text is JSON (else it is written as text), and for references.
      const body = JSON.parse(source) as unknown;
      // Written as the app's text, the bytes it sent (UTF-8, checked above).
      if (bytes.length > maxWritten) return undefined;
      return { body, json: source, written: bytes.length };
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
  const inBase64 = base64Bytes(bytes.length);
  // Neither form fits (text takes at least a byte a byte): refused without a scan.
  if (inBase64 > maxWritten && bytes.length + 2 > maxWritten) return undefined;
  const asText = 2 * inBase64;
  // Past `maxWritten` the text would be refused, and base64 too when it does not fit either: the
  // count stops at the lower bound that still decides.
  const bound = inBase64 > maxWritten ? maxWritten : asText;
  // Counted on the bytes when there is no string yet; the count stops past the bound.
  const written = text === undefined ? jsonTextBytes(bytes, bound) : jsonStringBytes(text, bound);
  if (written > bound && bound < asText) return undefined;
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
