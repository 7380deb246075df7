import { HttpStatus, Logger, StreamableFile } from '@nestjs/common';
import type { AbstractHttpAdapter } from '@nestjs/core';
import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { EncodedBatch } from '../formats/batch-format.interface.js';
import type { SplicedJson } from '../formats/entry-body.encoder.js';
import type { HttpPlatform } from '../platform/http.platform.js';

/**
 * Writes the batch reply itself, through the app's HTTP adapter, exactly as its format encodes
 * it. The batch handler takes the response (`@Res()`), so Nest sends nothing of what the global
 * interceptors make of its return value: a `map(data => ({ data }))` or a serializer cannot
 * rewrite the envelope, and a timeout interceptor cannot answer 408 in the middle of a batch
 * (each operation still runs through all of them, as a request of its own). Going through the
 * adapter rather than the raw response keeps what the app's server adds to every reply:
 * Fastify's `onSend` hooks (compression), headers set on the reply by middleware, hooks and
 * observing interceptors. A JSON reply is the library's own text (entries serialised as they
 * finish, the app's JSON bodies as written), sent as a stream of bytes: Express's `json spaces`
 * and its ETag over the whole reply, which would take one more pass over all of it, do not apply.
 */
export class ReplyWriter {
  private readonly logger = new Logger('BatchModule');

  constructor(
    private readonly adapter: AbstractHttpAdapter,
    /** What the handler got from `@Res()`: Express's response or Fastify's reply. */
    private readonly response: object,
    private readonly raw: ServerResponse,
    private readonly platform: HttpPlatform,
  ) {}

  /** Sets a header of the reply, before it is written. */
  setHeader(name: string, value: string): void {
    this.adapter.setHeader(this.response, name, value);
  }

  /** Adds a value to a header of the reply (`set-cookie`), before it is written. */
  appendHeader(name: string, value: string): void {
    this.adapter.appendHeader(this.response, name, value);
  }

  /** Writes an encoded batch reply, status 200. */
  write(reply: EncodedBatch): void {
    if (reply.kind === 'json') {
      this.writeJson('', [jsonPiece(reply.text)], '');
      return;
    }
    if (!this.writable()) return;
    this.adapter.reply(
      this.response,
      new StreamableFile(reply.body, { type: reply.contentType, length: reply.body.length }),
      HttpStatus.OK,
    );
  }

  /**
   * Writes a JSON reply made of pieces already serialised (`open`, the pieces separated by
   * commas, `close`; each from {@link jsonPiece}), status 200, with its Content-Length. No step
   * makes or writes the whole reply at once: small pieces are joined into chunks of about
   * {@link JSON_CHUNK} characters, a large piece (already bytes) is a chunk of its own, each
   * chunk handed over when the response takes it. Through the adapter, as a stream, so the
   * app's compression still applies.
   */
  writeJson(open: string, pieces: readonly JsonPiece[], close: string): void {
    if (!this.writable()) return;
    const chunks = chunksOf(open, pieces, close);
    let length = 0;
    for (const chunk of chunks) length += chunk.length;
    const [whole] = chunks;
    if (
      chunks.length === 1 &&
      whole &&
      this.platform.sendWhole(this.response, whole, JSON_REPLY_TYPE)
    ) {
      return;
    }
    const options = { type: JSON_REPLY_TYPE, length };
    this.adapter.reply(
      this.response,
      chunks.length === 1
        ? new StreamableFile(chunks[0] ?? Buffer.alloc(0), options)
        : new StreamableFile(Readable.from(chunks, { objectMode: false }), options),
      HttpStatus.OK,
    );
  }

  /**
   * Streams a reply of `type` as its stream yields, status 200. Started once the microtasks queued
   * now have run: Fastify writes the head of a streamed reply at once, and the observing
   * interceptors set their headers only after the handler returned, a few promise turns later.
   */
  stream(stream: Readable, type: string): void {
    process.nextTick(() => {
      if (!this.writable()) {
        stream.destroy();
        return;
      }
      this.adapter.reply(this.response, new StreamableFile(stream, { type }), HttpStatus.OK);
    });
  }

  /**
   * A failure after the handler returned, which no exception filter can see any more: a 500 in
   * Nest's shape while nothing is written yet, otherwise the connection is cut, so the client
   * cannot take a truncated reply for a whole one.
   */
  fail(error: unknown): void {
    this.logger.error(`The batch reply failed: ${String(error)}`);
    if (!this.writable()) {
      this.raw.destroy();
      return;
    }
    this.adapter.reply(
      this.response,
      { statusCode: 500, message: 'Internal server error' },
      HttpStatus.INTERNAL_SERVER_ERROR,
    );
  }

  /**
   * False once something else answered (an exception filter after an interceptor failed) or the
   * client left: then there is nothing to write to.
   */
  private writable(): boolean {
    return !this.raw.headersSent && !this.raw.writableEnded && !this.raw.destroyed;
  }
}

/** What Express's `res.json` and Fastify's serializer type a JSON reply with. */
const JSON_REPLY_TYPE = 'application/json; charset=utf-8';

/** Characters of JSON joined into one chunk of a reply, at most, unless one piece is larger. */
const JSON_CHUNK = 64 * 1024;

/**
 * A piece of a JSON reply: small text, or a large piece already made into bytes (in chunks,
 * a chunk of base64 each, when it was a decoded body).
 */
export type JsonPiece = string | Buffer | readonly Buffer[];

/**
 * A piece of JSON as the reply keeps it: a large one made into bytes now, as its entry
 * finishes, so its text is let go and the bytes are never made all at once at the end.
 */
export function jsonPiece(text: string | SplicedJson): JsonPiece {
  if (typeof text !== 'string') return splicedBytes(text);
  return text.length >= JSON_CHUNK ? bytesOf(text) : text;
}

/**
 * The bytes of spliced JSON, its large ASCII part copied once, straight into them; a decoded
 * body's base64 made and copied a chunk at a time, into chunks of its own (none of megabytes).
 */
function splicedBytes({ before, body, after }: SplicedJson): Buffer | Buffer[] {
  if (typeof body !== 'string') {
    // A piece of base64 a decoded chunk: each made, copied and let go while it is young.
    const chunks = [bytesOf(before)];
    for (const piece of body.base64Pieces()) chunks.push(Buffer.from(piece, 'latin1'));
    chunks.push(bytesOf(after));
    return chunks;
  }
  const head = Buffer.byteLength(before);
  const bytes = Buffer.allocUnsafe(head + body.length + Buffer.byteLength(after));
  bytes.write(before, 0);
  bytes.write(body, head, 'latin1');
  bytes.write(after, head + body.length);
  return bytes;
}

/**
 * UTF-8 bytes of `text`. ASCII text (base64, most JSON) is copied as Latin-1, the same bytes:
 * Node writes a string made in the heap as UTF-8 tens of times slower than it copies it.
 */
function bytesOf(text: string): Buffer {
  return Buffer.byteLength(text) === text.length ? Buffer.from(text, 'latin1') : Buffer.from(text);
}

/** The reply's bytes in chunks: runs of small pieces joined, each large piece alone. */
function chunksOf(open: string, pieces: readonly JsonPiece[], close: string): Buffer[] {
  const chunks: Buffer[] = [];
  let text = open;
  const flush = (): void => {
    if (text !== '') chunks.push(bytesOf(text));
    text = '';
  };
  pieces.forEach((piece, index) => {
    if (index > 0) text += ',';
    if (Buffer.isBuffer(piece)) {
      flush();
      chunks.push(piece);
    } else if (typeof piece !== 'string') {
      flush();
      chunks.push(...piece);
    } else {
      if (text.length + piece.length > JSON_CHUNK) flush();
      text += piece;
    }
  });
  text += close;
  flush();
  return chunks;
}
