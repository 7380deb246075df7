import { JSON_MEDIA_TYPE, TEXT_MEDIA_TYPE } from '../batch.constants.js';

/** A response body as a batch entry carries it. */
export interface DecodedBody {
  readonly body?: unknown;
  readonly bodyEncoding?: 'base64';
}

/**
 * Turns captured bytes into an entry's body: JSON parsed, text as text, anything else base64, so
 * nothing is lost. A body that claims JSON but does not parse is given as text; a body still
 * content-encoded is always base64.
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
  if (encoded) return { body: bytes.toString('base64'), bodyEncoding: 'base64' };
  const type = contentType ?? '';
  if (JSON_MEDIA_TYPE.test(type)) {
    const json = text ?? bytes.toString('utf8');
    try {
      return { body: JSON.parse(json) as unknown };
    } catch {
      return { body: json };
    }
  }
  if (type === '' || TEXT_MEDIA_TYPE.test(type)) return { body: text ?? bytes.toString('utf8') };
  return { body: bytes.toString('base64'), bodyEncoding: 'base64' };
}
