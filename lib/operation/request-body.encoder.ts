/** An operation's body as bytes, with the content type it is sent with. */
export interface EncodedBody {
  readonly bytes: Buffer;
  readonly contentType: string;
}

/**
 * Encodes an operation body. Bytes (a binary multipart part or Graph body) and strings
 * (pre-encoded JSON, a form, text) are sent as they are; any other JSON value is sent as JSON.
 * `null` and `undefined` mean no body, because clients in many languages write an absent body as
 * `null`.
 */
export function encodeRequestBody(
  body: unknown,
  contentType: string | undefined,
): EncodedBody | undefined {
  if (body === undefined || body === null) return undefined;
  if (Buffer.isBuffer(body)) {
    return { bytes: body, contentType: contentType ?? 'application/octet-stream' };
  }
  if (typeof body === 'string') {
    return { bytes: Buffer.from(body), contentType: contentType ?? 'text/plain; charset=utf-8' };
  }
  return {
    bytes: Buffer.from(JSON.stringify(body)),
    contentType: contentType ?? 'application/json',
  };
}
