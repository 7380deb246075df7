import { JSON_MEDIA_TYPE, TEXT_MEDIA_TYPE } from '../batch.constants.js';

/** A response body as a batch entry carries it. */
export interface DecodedBody {
  readonly body?: unknown;
  readonly bodyEncoding?: 'base64';
}

/**
 * Turns captured bytes into an entry's body: JSON parsed, text as text, anything else base64, so
 * nothing is lost. A body that claims JSON but does not parse is given as text. A compressed
 * body (an operation that sent its own Accept-Encoding, with compression middleware) is bytes,
 * whatever its type: base64.
 */
export function decodeResponseBody(
  bytes: Buffer,
  contentType: string | undefined,
  contentEncoding?: string | string[],
): DecodedBody {
  if (bytes.length === 0) return {};
  const encoding = [contentEncoding ?? []].flat().join(',').trim().toLowerCase();
  if (encoding !== '' && encoding !== 'identity') {
    return { body: bytes.toString('base64'), bodyEncoding: 'base64' };
  }
  const type = contentType ?? '';
  if (JSON_MEDIA_TYPE.test(type)) {
    const text = bytes.toString('utf8');
    try {
      return { body: JSON.parse(text) as unknown };
    } catch {
      return { body: text };
    }
  }
  if (type === '' || TEXT_MEDIA_TYPE.test(type)) return { body: bytes.toString('utf8') };
  return { body: bytes.toString('base64'), bodyEncoding: 'base64' };
}
