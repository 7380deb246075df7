import { brotliDecompress, gunzip, inflate, inflateRaw, type ZlibOptions } from 'node:zlib';
import { DECODED_CONTENT_ENCODINGS } from '../batch.constants.js';
import type { DecodedContentEncoding } from '../interfaces/batch-operation.interface.js';
import type { DispatchResponse } from '../dispatch/operation.dispatcher.js';

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
 * whole anyway.
 *
 * Decoding runs on libuv's thread pool, chunk by chunk, and stops as soon as the output passes
 * `maxBytes`: a small body that inflates enormously (a gzip or brotli bomb) costs no more than
 * `maxBytes` of memory and never holds the event loop. `done` is called once: at once when there
 * is nothing to decode, else when decoding ends.
 */
export function decodeContentEncoding(
  response: DispatchResponse,
  maxBytes: number,
  done: (decoded: DecodedResponse) => void,
): void {
  const header = response.headers['content-encoding'];
  const coding = typeof header === 'string' ? header.trim().toLowerCase() : undefined;
  if (
    coding === undefined ||
    coding === '' ||
    coding === 'identity' ||
    response.body.length === 0
  ) {
    done({ kind: 'plain', response });
    return;
  }
  if (!isDecoded(coding)) {
    done({ kind: 'encoded', response });
    return;
  }
  decode(coding, response.body, maxBytes, (error, body) => {
    if (error) {
      const tooLarge = (error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE';
      done({ kind: tooLarge ? 'too-large' : 'encoded', response });
      return;
    }
    const headers = { ...response.headers };
    delete headers['content-encoding'];
    delete headers['content-length'];
    // A new response: the capture's count of its headers (`headerBytes`) is not this one's.
    const { statusCode, truncated } = response;
    done({ kind: 'decoded', response: { statusCode, headers, body, truncated }, from: coding });
  });
}

function isDecoded(coding: string): coding is DecodedContentEncoding {
  return (DECODED_CONTENT_ENCODINGS as readonly string[]).includes(coding);
}

type Decoded = (error: Error | null, body: Buffer) => void;

/** Output chunks of 256 KiB: a turn of the event loop per chunk, 16 times fewer than zlib's 16 KiB. */
const CHUNK = 256 * 1024;

function decode(
  coding: DecodedContentEncoding,
  bytes: Buffer,
  maxBytes: number,
  done: Decoded,
): void {
  const options: ZlibOptions = { maxOutputLength: Math.max(maxBytes, 1), chunkSize: CHUNK };
  if (coding === 'gzip') return gunzip(bytes, options, done);
  if (coding === 'br') return brotliDecompress(bytes, options, done);
  // "deflate" is zlib-wrapped by the standard; some servers send it raw, as browsers accept.
  inflate(bytes, options, (error, body) => {
    if (error && (error as { code?: unknown }).code !== 'ERR_BUFFER_TOO_LARGE') {
      inflateRaw(bytes, options, done);
    } else done(error, body);
  });
}
