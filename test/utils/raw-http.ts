import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Response } from 'superagent';
import type { TestApp } from './test-app.js';

/** What a raw request got back, the body as bytes. */
export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/**
 * A supertest parser (`.buffer(true).parse(readText)`) that reads a reply as UTF-8 text whatever
 * its type (multipart, NDJSON, JSON), so nothing is parsed that the client would not parse itself.
 */
export function readText(res: Response, done: (error: Error | null, body: string) => void): void {
  let text = '';
  res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  res.on('end', () => done(null, text));
}

/** The base url of a test app, for clients that want absolute urls. */
export function baseOf(t: TestApp): string {
  return `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
}

/**
 * Sends exactly the given headers and bytes, and nothing else: supertest would add a
 * Content-Type of its own to a string body, and these tests are about what clients leave out.
 */
export function rawRequest(
  t: TestApp,
  options: {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: Buffer | string;
  },
): Promise<RawResponse> {
  const url = new URL(options.path ?? '/batch', baseOf(t));
  const body = options.body === undefined ? undefined : Buffer.from(options.body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: options.method ?? 'POST',
        headers: {
          ...(body ? { 'content-length': String(body.length) } : {}),
          ...options.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** What {@link postRaw} got back. */
export interface RawPostResponse extends RawResponse {
  /** The body as UTF-8 text. */
  readonly text: string;
  /** False when the request was left unfinished (`end: false`) and the reply came anyway. */
  readonly sentAll: boolean;
}

/**
 * Posts bytes to the batch route exactly as given: the chunks written one by one, only the
 * headers given (no Content-Length is added, so without one the body goes chunked), and with
 * `end: false` the request left open, to see the endpoint answer before the body ends.
 */
export function postRaw(
  t: TestApp,
  body: string | Buffer | readonly (string | Buffer)[],
  headers: Record<string, string | number> = { 'content-type': 'application/json' },
  { end = true, path = '/batch' }: { end?: boolean; path?: string } = {},
): Promise<RawPostResponse> {
  const chunks = typeof body === 'string' || Buffer.isBuffer(body) ? [body] : body;
  return new Promise((resolve, reject) => {
    let sentAll = false;
    const req = httpRequest(new URL(path, baseOf(t)), { method: 'POST', headers }, (res) => {
      const received: Buffer[] = [];
      res.on('data', (chunk: Buffer) => received.push(chunk));
      res.on('end', () => {
        req.destroy();
        const bytes = Buffer.concat(received);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: bytes,
          text: bytes.toString('utf8'),
          sentAll,
        });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    for (const chunk of chunks) req.write(chunk);
    if (end) {
      req.end();
      sentAll = true;
    }
  });
}

/** One part of a multipart/mixed reply, split as this library writes it. */
export interface ReplyPart {
  /** The part's own MIME headers (Content-Type, Content-ID), as written. */
  outer: string;
  code: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** The parts of a multipart/mixed reply of this library, in order. */
export function multipartParts(contentType: string | undefined, bytes: Buffer): ReplyPart[] {
  const boundary = /boundary=([^;]+)$/.exec(contentType ?? '')?.[1];
  if (!boundary) throw new Error(`no boundary in ${String(contentType)}`);
  const text = bytes.toString('latin1');
  const end = `--${boundary}--\r\n`;
  if (!text.endsWith(end)) throw new Error('the reply does not end with its closing boundary');
  return text
    .slice(0, -end.length)
    .split(`--${boundary}\r\n`)
    .slice(1)
    .map((part) => {
      const headEnd = part.indexOf('\r\n\r\n');
      const outer = part.slice(0, headEnd);
      const message = part.slice(headEnd + 4);
      const bodyStart = message.indexOf('\r\n\r\n');
      const [statusLine = '', ...lines] = message.slice(0, bodyStart).split('\r\n');
      return {
        outer,
        code: Number(statusLine.split(' ')[1]),
        headers: Object.fromEntries(
          lines.map((line) => [
            line.slice(0, line.indexOf(':')).toLowerCase(),
            line.slice(line.indexOf(':') + 1).trim(),
          ]),
        ),
        body: Buffer.from(message.slice(bodyStart + 4).replace(/\r\n$/, ''), 'latin1'),
      };
    });
}

/** A multipart/mixed batch body of `application/http` parts, CRLF, with optional part headers. */
export function multipartBody(
  boundary: string,
  parts: readonly { headers?: readonly string[]; http: string }[],
): string {
  return (
    parts
      .map((part) =>
        [
          `--${boundary}`,
          'Content-Type: application/http',
          ...(part.headers ?? []),
          '',
          part.http,
        ].join('\r\n'),
      )
      .join('\r\n') + `\r\n--${boundary}--\r\n`
  );
}
