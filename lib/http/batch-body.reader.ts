import type { IncomingMessage } from 'node:http';

/** The body passed `maxBodyBytes`; the rest of it was never read. */
export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`The batch body may be at most ${limit} bytes (maxBodyBytes)`);
  }
}

/** The client went away before the body was complete. */
export class BodyAbortedError extends Error {}

/**
 * Reads a request body into memory, refusing it as soon as it would pass `limit` bytes: at once
 * when its Content-Length says so, else the moment the count passes while it streams in. What
 * follows is never read, so an oversized batch costs no more memory than `limit`.
 */
export function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  if (Number(request.headers['content-length']) > limit) {
    return Promise.reject(new BodyTooLargeError(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (): void => {
      request.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        done();
        request.pause();
        reject(new BodyTooLargeError(limit));
      } else chunks.push(chunk);
    };
    const onEnd = (): void => {
      done();
      // A body that came in one chunk is that chunk: no copy.
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    };
    const onError = (error: Error): void => {
      done();
      reject(error);
    };
    const onClose = (): void => {
      done();
      reject(new BodyAbortedError('the client closed the connection before the body was complete'));
    };
    request.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}
