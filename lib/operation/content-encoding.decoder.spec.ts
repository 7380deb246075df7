import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { decodeContentEncoding, type DecodedResponse } from './content-encoding.decoder.js';
import type { DispatchResponse } from '../dispatch/operation.dispatcher.js';

function response(encoding: string | undefined, body: Buffer): DispatchResponse {
  const headers: Record<string, string> = { 'content-type': 'text/plain', 'content-length': '1' };
  if (encoding !== undefined) headers['content-encoding'] = encoding;
  return { statusCode: 200, headers, body, truncated: false };
}

function decoded(response: DispatchResponse, maxBytes: number): Promise<DecodedResponse> {
  return new Promise((resolve) => decodeContentEncoding(response, maxBytes, resolve));
}

describe('decodeContentEncoding', () => {
  const text = Buffer.from('hello, hello, hello');

  it.each([
    ['gzip', gzipSync(text)],
    ['deflate', deflateSync(text)],
    ['deflate', deflateRawSync(text)], // raw deflate, as some servers send it
    [' GZIP ', gzipSync(text)],
  ])('decodes %s and drops content-encoding and content-length', async (encoding, body) => {
    const result = await decoded(response(encoding, body), 1024);
    expect(result.kind).toBe('decoded');
    expect(result.kind === 'decoded' && result.response.body.joined()).toEqual(text);
    expect(result.response.headers).toEqual({ 'content-type': 'text/plain' });
  });

  it('leaves identity and unencoded responses alone, answering at once', () => {
    const kinds: string[] = [];
    decodeContentEncoding(response(undefined, text), 1024, ({ kind }) => kinds.push(kind));
    decodeContentEncoding(response('identity', text), 1024, ({ kind }) => kinds.push(kind));
    expect(kinds).toEqual(['plain', 'plain']);
  });

  it.each([
    ['an unknown coding', 'zstd', text],
    ['several codings', 'gzip, br', gzipSync(text)],
    ['a body that is not what its coding says', 'gzip', text],
  ])('carries %s as it came', async (_name, encoding, body) => {
    const result = await decoded(response(encoding, body), 1024);
    expect(result.kind).toBe('encoded');
    expect(result.response.body).toBe(body);
  });

  it.each([
    ['gzip', gzipSync(Buffer.alloc(1024 * 1024))],
    ['br', brotliCompressSync(Buffer.alloc(1024 * 1024))],
    ['deflate', deflateSync(Buffer.alloc(1024 * 1024))],
  ])('stops %s at maxBytes of decoded output', async (encoding, bomb) => {
    expect((await decoded(response(encoding, bomb), 1024)).kind).toBe('too-large');
  });

  it('keeps a decoded body in chunks, never joined, each under the chunk size', async () => {
    const body = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) % 251));
    const result = await decoded(response('gzip', gzipSync(body)), 1024 * 1024);
    if (result.kind !== 'decoded') throw new Error(`not decoded: ${result.kind}`);
    const { chunks } = result.response.body;
    expect(chunks.length).toBeGreaterThan(1);
    expect(Math.max(...chunks.map((chunk) => chunk.length))).toBeLessThanOrEqual(90 * 1024);
    expect(Buffer.concat(chunks)).toEqual(body);
    expect(result.response.body.base64()).toBe(body.toString('base64'));
  });

  it('decodes off the event loop: the loop turns while a bomb is decoded', async () => {
    const bomb = brotliCompressSync(Buffer.alloc(64 * 1024 * 1024));
    let turns = 0;
    let ended = false;
    const spin = (): void => {
      if (ended) return;
      turns++;
      setImmediate(spin);
    };
    setImmediate(spin);
    const result = await decoded(response('br', bomb), 32 * 1024 * 1024);
    ended = true;
    expect(result.kind).toBe('too-large');
    // Decoded in one synchronous call, the loop would not have turned at all meanwhile.
    expect(turns).toBeGreaterThan(1);
  });
});
