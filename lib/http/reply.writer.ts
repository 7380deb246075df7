import { HttpStatus, Logger, StreamableFile } from '@nestjs/common';
import type { AbstractHttpAdapter } from '@nestjs/core';
import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { EncodedBatch } from '../formats/batch-format.interface.js';

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
      this.writeJson('', [reply.text], '');
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
   * commas, `close`), status 200, with its Content-Length. No step makes or writes the whole
   * reply at once: small pieces are joined into chunks of about {@link JSON_CHUNK} characters,
   * each chunk made into bytes only when the response takes it, so a reply of large entries
   * holds the event loop for one entry at a time, not for all of them. Through the adapter, as
   * a stream, so the app's compression still applies.
   */
  writeJson(open: string, pieces: readonly string[], close: string): void {
    if (!this.writable()) return;
    const chunks = chunksOf(open, pieces, close);
    let length = 0;
    for (const chunk of chunks) length += Buffer.byteLength(chunk);
    const options = { type: JSON_REPLY_TYPE, length };
    this.adapter.reply(
      this.response,
      chunks.length === 1
        ? new StreamableFile(Buffer.from(chunks[0] ?? ''), options)
        : new StreamableFile(readableOf(chunks), options),
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

function chunksOf(open: string, pieces: readonly string[], close: string): string[] {
  const chunks: string[] = [];
  let current = open;
  pieces.forEach((piece, index) => {
    const comma = index === 0 ? '' : ',';
    if (current.length + piece.length > JSON_CHUNK) {
      chunks.push(current + comma);
      current = piece;
    } else current += comma + piece;
  });
  chunks.push(current + close);
  return chunks.filter((chunk) => chunk !== '');
}

/** The chunks as a stream of bytes, each made into bytes as the response reads it. */
function readableOf(chunks: readonly string[]): Readable {
  let next = 0;
  return new Readable({
    read() {
      const chunk = chunks[next++];
      this.push(chunk === undefined ? null : Buffer.from(chunk));
    },
  });
}
