import { deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { decodeContentEncoding } from './content-encoding.js';
import type { DispatchResponse } from './operation.dispatcher.js';

function response(encoding: string | undefined, body: Buffer): DispatchResponse {
  const headers: Record<string, string> = { 'content-type': 'text/plain', 'content-length': '1' };
  if (encoding !== undefined) headers['content-encoding'] = encoding;
  return { statusCode: 200, headers, body, truncated: false };
}

describe('decodeContentEncoding', () => {
  const text = Buffer.from('hello, hello, hello');

  it.each([
    ['gzip', gzipSync(text)],
    ['deflate', deflateSync(text)],
    ['deflate', deflateRawSync(text)], // raw deflate, as some servers send it
    [' GZIP ', gzipSync(text)],
  ])('decodes %s and drops content-encoding and content-length', (encoding, body) => {
    const decoded = decodeContentEncoding(response(encoding, body), 1024);
    expect(decoded.kind).toBe('decoded');
    expect(decoded.response.body).toEqual(text);
    expect(decoded.response.headers).toEqual({ 'content-type': 'text/plain' });
  });

  it('leaves identity and unencoded responses alone', () => {
    expect(decodeContentEncoding(response(undefined, text), 1024).kind).toBe('plain');
    expect(decodeContentEncoding(response('identity', text), 1024).kind).toBe('plain');
  });

  it.each([
    ['an unknown coding', 'zstd', text],
    ['several codings', 'gzip, br', gzipSync(text)],
    ['a body that is not what its coding says', 'gzip', text],
  ])('carries %s as it came', (_name, encoding, body) => {
    const decoded = decodeContentEncoding(response(encoding, body), 1024);
    expect(decoded.kind).toBe('encoded');
    expect(decoded.response.body).toBe(body);
  });

  it('stops at maxBytes of decoded output', () => {
    const bomb = gzipSync(Buffer.alloc(1024 * 1024));
    expect(decodeContentEncoding(response('gzip', bomb), 1024).kind).toBe('too-large');
  });
});
