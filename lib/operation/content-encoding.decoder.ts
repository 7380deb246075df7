import {
  createBrotliDecompress,
  createGunzip,
  createInflate,
  createInflateRaw,
  type ZlibOptions,
} from 'node:zlib';
import type { Transform } from 'node:stream';
import { DECODED_CONTENT_ENCODINGS } from '../batch.constants.js';
import type { DecodedContentEncoding } from '../interfaces/batch-operation.interface.js';
import type { DispatchResponse } from '../dispatch/operation.dispatcher.js';
import { DecodedChunks } from './response-body.decoder.js';

/** A response decoded from its content coding: its body is the decoded chunks, never joined. */
export type DecodedDispatchResponse = Omit<DispatchResponse, 'body' | 'text'> & {
  readonly body: DecodedChunks;
};

/** A response as its entry carries it: decoded when it could be, else with what says it was not. */
export type DecodedResponse =
  | { readonly kind: 'plain'; readonly response: DispatchResponse }
  | {
      readonly kind: 'decoded';
      readonly response: DecodedDispatchResponse;
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
 * `maxBytes` of memory and never holds the event loop. The chunks are kept as they come, each
 * checked and counted then (see {@link DecodedChunks}), a chunk a turn: no step joins or scans
 * megabytes at once. `done` is called once: at once when there is nothing to decode, else when
 * decoding ends.
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
      done({ kind: error === TOO_LARGE ? 'too-large' : 'encoded', response });
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

type Decoded = (error: Error | null, body: DecodedChunks) => void;

/** The decoded output passed `maxBytes`. */
const TOO_LARGE = new Error('The decoded body passes its cap');

/**
 * Output chunks of 90 KiB: each is checked and counted in a turn of its own, well under a
 * millisecond, comes from the allocator's reused memory rather than fresh pages, and its base64
 * (120 KiB) stays under the size V8 gives pages of their own. A multiple of 3 bytes, so that a
 * full chunk makes a whole piece of base64.
 */
const CHUNK = 90 * 1024;

function decode(
  coding: DecodedContentEncoding,
  bytes: Buffer,
  maxBytes: number,
  done: Decoded,
): void {
  if (coding === 'gzip') return decodeWith(createGunzip, bytes, maxBytes, done);
  if (coding === 'br') return decodeWith(createBrotliDecompress, bytes, maxBytes, done);
  // "deflate" is zlib-wrapped by the standard; some servers send it raw, as browsers accept.
  decodeWith(createInflate, bytes, maxBytes, (error, body) => {
    if (error && error !== TOO_LARGE) decodeWith(createInflateRaw, bytes, maxBytes, done);
    else done(error, body);
  });
}

/** Decodes `bytes` through a zlib stream, stopping once the output passes `maxBytes`. */
function decodeWith(
  create: (options: ZlibOptions) => Transform,
  bytes: Buffer,
  maxBytes: number,
  done: Decoded,
): void {
  // Text counts 1 to 6 bytes a byte; past twice base64's bytes of `maxBytes` it is never chosen.
  const chunks = new DecodedChunks(2 * (Math.ceil(maxBytes / 3) * 4 + 2));
  let ended = false;
  const end = (error: Error | null): void => {
    if (ended) return;
    ended = true;
    done(error, chunks);
  };
  const stream = create({ chunkSize: CHUNK });
  stream.on('data', (chunk: Buffer) => {
    if (ended) return;
    if (chunks.length + chunk.length > maxBytes) {
      stream.destroy();
      end(TOO_LARGE);
      return;
    }
    chunks.add(chunk);
  });
  stream.on('error', (error) => end(error));
  stream.on('end', () => end(null));
  stream.end(bytes);
}
