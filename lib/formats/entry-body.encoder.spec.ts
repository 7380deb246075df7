import { jsonPiece } from '../http/reply.writer.js';
import type { BatchResult } from '../interfaces/batch-operation.interface.js';
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

  it('gives small bodies, text and null as plain JSON', () => {
    expect(entryJsonSpliced(entry('AAAA'))).toBe(entryJson(entry('AAAA')));
    const text = entry('x'.repeat(100 * 1024), { bodyEncoding: undefined });
    expect(entryJsonSpliced(text)).toBe(entryJson(text));
    expect(entryJsonSpliced(null)).toBe('null');
  });
});
