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
 * The body an operation with `bodyEncoding` sends: its bytes.
 * @returns The bytes, or undefined with a problem pushed.
 */
export function decodeEncodedBody(
  body: unknown,
  path: string,
  problems: string[],
): Buffer | undefined {
  return decodeBase64Body(body, path, problems, ' when bodyEncoding is "base64"');
}

/**
 * A body that travels as base64 (the native format's `bodyEncoding`, a Graph request's non-JSON
 * body), as bytes. Node's base64 decoder skips what it does not understand, so the text is
 * checked first: a typo must be a 400, not a different file. Every format decodes base64 here,
 * so none takes more than the native one.
 * @param why Why the body must be base64, the end of the message (` when bodyEncoding is "base64"`,
 *   `: its Content-Type is not JSON`).
 * @returns The bytes, or undefined with a problem pushed.
 */
export function decodeBase64Body(
  body: unknown,
  path: string,
  problems: string[],
  why: string,
): Buffer | undefined {
  if (typeof body !== 'string') {
    problems.push(`${path}.body must be a base64 string${why}`);
    return undefined;
  }
  if (!BASE64.test(body)) {
    problems.push(`${path}.body must be base64 (A-Z a-z 0-9 + /, padded with =)${why}`);
    return undefined;
  }
  return Buffer.from(body, 'base64');
}
