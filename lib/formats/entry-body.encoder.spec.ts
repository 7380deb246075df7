import { jest } from '@jest/globals';
import { jsonPiece } from '../http/reply.writer.js';
import type { BatchResult } from '../interfaces/batch-operation.interface.js';
import { DecodedChunks, setEntryBody } from '../operation/response-body.decoder.js';
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

  it('writes a decoded body a chunk of base64 at a time, the same bytes, never made whole', () => {
    const bytes = Buffer.from(Array.from({ length: 700_000 }, (_, i) => (i * 13) % 256));
    const chunks = new DecodedChunks();
    for (let at = 0; at < bytes.length; at += 49_151) chunks.add(bytes.subarray(at, at + 49_151));
    const made = jest.spyOn(chunks, 'base64');
    const result = entry('');
    setEntryBody(result, { bodyEncoding: 'base64', base64Of: chunks });
    const piece = jsonPiece(entryJsonSpliced(result));
    expect(made).not.toHaveBeenCalled();
    expect(Array.isArray(piece)).toBe(true);
    const written = piece as readonly Buffer[];
    expect(Math.max(...written.map((chunk) => chunk.length))).toBeLessThanOrEqual(65_536);
    expect(Buffer.concat(written)).toEqual(Buffer.from(entryJson(entry(bytes.toString('base64')))));
    // Read, the body is the same base64, and the entry's JSON the same as before it was read.
    expect(result.body).toBe(bytes.toString('base64'));
    expect(Buffer.concat(jsonPiece(entryJsonSpliced(result)) as Buffer[])).toEqual(
      Buffer.concat(written),
    );
  });

  it('writes a body set since as the new body, not the decoded one', () => {
    const chunks = new DecodedChunks();
    chunks.add(Buffer.alloc(100 * 1024, 7));
    const result = entry('');
    setEntryBody(result, { bodyEncoding: 'base64', base64Of: chunks });
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
