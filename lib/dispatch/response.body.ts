import { isUtf8 } from 'node:buffer';
import { JSON_MEDIA_TYPE, TEXT_MEDIA_TYPE } from '../batch.constants.js';
import { jsonStringBytes } from '../operation/json-string.size.js';

/** A response body as a batch entry carries it. */
export interface DecodedBody {
  readonly body?: unknown;
  readonly bodyEncoding?: 'base64';
}

/**
 * Turns captured bytes into an entry's body: JSON parsed, text as text, anything else base64, so
 * nothing is lost. A body that claims JSON but does not parse is given as text; a body still
 * content-encoded is always base64.
 *
 * Text is given as text only when it is UTF-8 and JSON writes it in no more bytes than base64
 * would: else base64. Escaped, a NUL byte takes 6 bytes (`\u0000`) and an invalid UTF-8 byte 3
 * (U+FFFD), so a body of either, which is binary whatever its type says, would make the reply
 * several times larger than the bytes the caps counted; base64 takes 4 for 3, and keeps every
 * byte, where U+FFFD would not.
 */
export function decodeResponseBody(
  bytes: Buffer,
  contentType: string | undefined,
  /** Still content-encoded (a coding not decoded here): bytes whatever the type says. */
  encoded = false,
  /** The same body as the string the app wrote, when it wrote one (see `DispatchResponse.text`). */
  text?: string,
): DecodedBody {
  if (bytes.length === 0) return {};
  if (encoded) return base64(bytes);
  const type = contentType ?? '';
  if (JSON_MEDIA_TYPE.test(type)) {
    if (text === undefined && !isUtf8(bytes)) return base64(bytes);
    const json = text ?? bytes.toString('utf8');
    try {
      return { body: JSON.parse(json) as unknown };
    } catch {
      return textOrBase64(bytes, json);
    }
  }
  if (type === '' || TEXT_MEDIA_TYPE.test(type)) {
    if (text === undefined && !isUtf8(bytes)) return base64(bytes);
    return textOrBase64(bytes, text ?? bytes.toString('utf8'));
  }
  return base64(bytes);
}

function base64(bytes: Buffer): DecodedBody {
  return { body: bytes.toString('base64'), bodyEncoding: 'base64' };
}

/** `text` as text when JSON writes it in no more than base64's bytes; else the bytes in base64. */
function textOrBase64(bytes: Buffer, text: string): DecodedBody {
  // Quotes included on both sides; the count stops as soon as it passes base64's.
  const asBase64 = Math.ceil(bytes.length / 3) * 4 + 2;
  return jsonStringBytes(text, asBase64) > asBase64 ? base64(bytes) : { body: text };
}
