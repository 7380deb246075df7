/**
 * The encodings a native operation's `body` may be written in, with `bodyEncoding`: `base64`
 * carries bytes (an upload, an image) that JSON cannot hold as they are, the way entries carry
 * binary responses.
 * @publicApi
 */
export const BODY_ENCODINGS = ['base64'] as const;

/** Standard base64 (RFC 4648 §4), padded: what `Buffer.toString('base64')` and `btoa` write. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The body an operation with `bodyEncoding` sends: its bytes. Node's base64 decoder skips what it
 * does not understand, so the text is checked first: a typo must be a 400, not a different file.
 * @returns The bytes, or undefined with a problem pushed.
 */
export function decodeEncodedBody(
  body: unknown,
  path: string,
  problems: string[],
): Buffer | undefined {
  if (typeof body !== 'string') {
    problems.push(`${path}.body must be a base64 string when bodyEncoding is "base64"`);
    return undefined;
  }
  if (!BASE64.test(body)) {
    problems.push(
      `${path}.body must be base64 (A-Z a-z 0-9 + /, padded with =) when bodyEncoding is "base64"`,
    );
    return undefined;
  }
  return Buffer.from(body, 'base64');
}
