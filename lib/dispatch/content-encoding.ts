import { brotliDecompressSync, gunzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import { DECODED_CONTENT_ENCODINGS } from '../batch.constants.js';
import type { DecodedContentEncoding } from '../interfaces/batch-operation.interface.js';
import type { DispatchResponse } from './operation.dispatcher.js';

/** A response as its entry carries it: decoded when it could be, else with what says it was not. */
export type DecodedResponse =
  | { readonly kind: 'plain'; readonly response: DispatchResponse }
  | {
      readonly kind: 'decoded';
      readonly response: DispatchResponse;
      readonly from: DecodedContentEncoding;
    }
  /** Carried as bytes: the coding is unknown here, or the body is not what its coding says. */
  | { readonly kind: 'encoded'; readonly response: DispatchResponse }
  /** Decoded, it would pass `maxBytes`: refused like any response over the cap. */
  | { readonly kind: 'too-large'; readonly response: DispatchResponse };

/**
 * Undoes the content coding the app applied to a response (an operation may ask for one with its
 * own `accept-encoding`, and compression middleware obliges). An entry's body is read as JSON or
 * text, so encoded bytes read that way would be corrupt beyond repair; decoded, the entry holds
 * what the direct request's client would have decoded, and the batch reply is compressed as a
 * whole anyway. The decoded size is capped while decoding, so a small body that inflates
 * enormously costs no more than `maxBytes`.
 */
export function decodeContentEncoding(
  response: DispatchResponse,
  maxBytes: number,
): DecodedResponse {
  const header = response.headers['content-encoding'];
  const coding = typeof header === 'string' ? header.trim().toLowerCase() : undefined;
  if (
    coding === undefined ||
    coding === '' ||
    coding === 'identity' ||
    response.body.length === 0
  ) {
    return { kind: 'plain', response };
  }
  if (!isDecoded(coding)) return { kind: 'encoded', response };
  let body: Buffer;
  try {
    body = decode(coding, response.body, maxBytes);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') {
      return { kind: 'too-large', response };
    }
    return { kind: 'encoded', response };
  }
  const headers = { ...response.headers };
  delete headers['content-encoding'];
  delete headers['content-length'];
  return { kind: 'decoded', response: { ...response, headers, body }, from: coding };
}

function isDecoded(coding: string): coding is DecodedContentEncoding {
  return (DECODED_CONTENT_ENCODINGS as readonly string[]).includes(coding);
}

function decode(coding: DecodedContentEncoding, bytes: Buffer, maxBytes: number): Buffer {
  const options = { maxOutputLength: Math.max(maxBytes, 1) };
  if (coding === 'gzip') return gunzipSync(bytes, options);
  if (coding === 'br') return brotliDecompressSync(bytes, options);
  // "deflate" is zlib-wrapped by the standard; some servers send it raw, as browsers accept.
  try {
    return inflateSync(bytes, options);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') throw error;
    return inflateRawSync(bytes, options);
  }
}
