import { jsonPiece } from '../http/reply.writer.js';
import type { BatchResult } from '../interfaces/batch-operation.interface.js';
import { DecodedChunks, keepBase64Pieces } from '../operation/response-body.decoder.js';
import { entryJson, entryJsonSpliced, SplicedJson } from './entry-body.encoder.js';

describe('entryJsonSpliced', () => {
  const large = Buffer.alloc(100 * 1024, 7).toString('base64');
  const entry = (body: string, extra: Partial<BatchResult> = {}): BatchResult => ({
    method: 'GET',
    url: '/gz?name=ünïcode',
    code: 200,
    headers: { 'content-type': 'application/json', 'x-note': 'naïve "quoted"\u0000' },
    body,
    bodyEncoding: 'base64',
    ...extra,
  });

  it('keeps a large base64 body apart, and reads as entryJson does', () => {
    const result = entry(large, { decodedContentEncoding: 'gzip' });
    const spliced = entryJsonSpliced(result);
    expect(spliced).toBeInstanceOf(SplicedJson);
    expect((spliced as SplicedJson).ascii).toBe(large);
    expect(String(spliced)).toBe(entryJson(result));
    expect(JSON.parse(String(spliced))).toEqual(result);
  });

  it('is written as the UTF-8 bytes of the same JSON', () => {
    const result = entry(large);
    expect(jsonPiece(entryJsonSpliced(result))).toEqual(Buffer.from(entryJson(result)));
  });

  it('writes a body made in pieces a piece at a time, no chunk of megabytes, the same bytes', () => {
    const bytes = Buffer.from(Array.from({ length: 700_000 }, (_, i) => (i * 13) % 256));
    const chunks = new DecodedChunks();
    for (let at = 0; at < bytes.length; at += 49_151) chunks.add(bytes.subarray(at, at + 49_151));
    const { text, pieces } = chunks.base64();
    const result = entry(text);
    keepBase64Pieces(result, pieces);
    const piece = jsonPiece(entryJsonSpliced(result));
    expect(Array.isArray(piece)).toBe(true);
    const written = piece as readonly Buffer[];
    expect(Math.max(...written.map((chunk) => chunk.length))).toBeLessThanOrEqual(64 * 1024);
    expect(Buffer.concat(written)).toEqual(Buffer.from(entryJson(entry(bytes.toString('base64')))));
  });

  it('writes a body replaced since as the new body, not its old pieces', () => {
    const result = entry(large);
    keepBase64Pieces(result, ['AAAA']);
    result.body = Buffer.alloc(100 * 1024, 8).toString('base64');
    expect(jsonPiece(entryJsonSpliced(result))).toEqual(Buffer.from(entryJson(result)));
  });

  it('gives small bodies, text and null as plain JSON', () => {
    expect(entryJsonSpliced(entry('AAAA'))).toBe(entryJson(entry('AAAA')));
    const text = entry('x'.repeat(100 * 1024), { bodyEncoding: undefined });
    expect(entryJsonSpliced(text)).toBe(entryJson(text));
    expect(entryJsonSpliced(null)).toBe('null');
  });
});
