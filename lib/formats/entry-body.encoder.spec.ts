import { jest } from '@jest/globals';
import { jsonPiece } from '../http/reply.writer.js';
import type { BatchResult } from '../interfaces/batch-operation.interface.js';
import { DecodedChunks, JsonTextResult, setEntryBody } from '../operation/response-body.decoder.js';
import { entryJson, entryJsonSpliced, headersJson, SplicedJson } from './entry-body.encoder.js';

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

/** A small deterministic generator, so a failure names a case that can be run again. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Characters JSON.stringify writes as they are, escapes, or escapes only when alone. */
const HOSTILE = [
  'a',
  'Z',
  '-',
  ' ',
  '/',
  '<',
  '\u007f',
  'é',
  '€',
  '"',
  '\\',
  '\u0000',
  '\u0008',
  '\n',
  '\t',
  '\u001f',
  '\u2028',
  '\u2029',
  '\ud800',
  '\udfff',
  '\ud83d\ude00',
  '\ufeff',
  '\uffff',
];

describe('headersJson', () => {
  it('writes what JSON.stringify writes, for hostile names and values', () => {
    const next = random(7);
    const pick = (): string => HOSTILE[Math.floor(next() * HOSTILE.length)] as string;
    const text = (): string => {
      let made = '';
      const length = Math.floor(next() * 6);
      for (let i = 0; i < length; i++) made += next() < 0.7 ? 'x-y' : pick();
      return made;
    };
    const disagreements: unknown[] = [];
    for (let round = 0; round < 20000; round++) {
      const headers: Record<string, string | string[]> = {};
      const count = Math.floor(next() * 5);
      for (let i = 0; i < count; i++) {
        const name = next() < 0.1 ? String(Math.floor(next() * 20)) : text();
        headers[name] =
          next() < 0.3 ? Array.from({ length: Math.floor(next() * 3) }, text) : text();
      }
      if (headersJson(headers) !== JSON.stringify(headers)) disagreements.push(headers);
    }
    expect(disagreements).toEqual([]);
  });

  const inherited = Object.create({ toJSON: () => 'inherited' }) as Record<string, string>;
  inherited['a'] = 'b';
  class Headers {
    readonly a = 'b';
  }
  const withToJson = Object.assign(['a'], { toJSON: () => 'list' });
  const cases: [string, unknown][] = [
    ['empty', {}],
    ['an empty list', { 'set-cookie': [] }],
    ['a list', { 'set-cookie': ['a=1', 'b="2"'], vary: 'Origin' }],
    ['names of digits, which come first', { b: '1', '10': 'x', '2': 'y', a: ['z'] }],
    ['no prototype', Object.assign(Object.create(null) as object, { a: 'b', c: ['d'] })],
    ['its own toJSON', { a: 'b', toJSON: () => ({ c: 'd' }) }],
    ['an own toJSON that is not a function', { a: 'b', toJSON: 'x' }],
    ['an inherited toJSON', inherited],
    ['a class', new Headers()],
    ['a list with its toJSON', { a: withToJson }],
    ['a list with a hole', { a: Object.assign(new Array<string>(3), { 0: 'x', 2: 'y' }) }],
    ['a list of other values', { a: [1, null, { b: 'c' }] }],
    ['other values', { a: 1, b: null, c: undefined, d: true, e: { f: 'g' }, h: () => 'i' }],
    ['a symbol name', { [Symbol('s')]: 'x', a: 'b' }],
    [
      'a getter',
      {
        a: 'b',
        get c() {
          return 'd"';
        },
      },
    ],
    ['a surrogate pair', { 'x-emoji': '\ud83d\ude00', '\ud83d\ude00': 'y' }],
  ];
  it.each(cases)('writes what JSON.stringify writes: %s', (_, headers) => {
    const given = headers as Record<string, string | string[]>;
    expect(headersJson(given)).toBe(JSON.stringify(given));
  });
});

describe("entryJson of a result with the app's JSON text", () => {
  it('writes what JSON.stringify writes of each, one after another as a batch has them', () => {
    const headerSets: Record<string, string | string[]>[] = [
      { 'content-type': 'application/json', etag: 'W/"1"' },
      { 'content-type': 'application/json', etag: 'W/"1"' },
      { 'content-type': 'application/json', etag: 'W/2' },
      { 'content-type': 'application/json', etag: 'W/2' },
      { etag: 'W/2', 'content-type': 'application/json' },
      { 'content-type': 'text/json', 'set-cookie': ['a=1', 'b=2'] },
      { 'content-type': ['text/json'] },
      { 'content-type': 'application/json' },
      {},
    ];
    const methods = ['GET', 'POST', 'DELETE'] as const;
    const codes = [200, 200, 404, 201, 599, 200.5, -1, 1000];
    const urls = ['/items/1', '/items/2?q=a b', '/\u00e9', '/"x"'];
    const written: string[] = [];
    const expected: string[] = [];
    headerSets.forEach((headers, at) => {
      for (const [i, url] of urls.entries()) {
        const method = methods[(at + i) % methods.length] as (typeof methods)[number];
        const code = codes[(at + i) % codes.length] as number;
        const result = new JsonTextResult(method, url, code, headers, '[1,{"a":"b"}]');
        if (at % 2 === 1) result.decodedContentEncoding = 'gzip';
        written.push(entryJson(result));
        expected.push(JSON.stringify(result));
      }
    });
    expect(written).toEqual(expected);
  });

  it('writes what JSON.stringify writes of it, its url and headers hostile', () => {
    const url = '/a?q="\\\u0000\u2028\ud800é';
    const headers = { 'x-"name"': 'v\\\n', 'set-cookie': ['a=\u001f', '\udc00'] };
    const result = new JsonTextResult('GET', url, 200, headers, '{"a":[1,"b"]}');
    expect(entryJson(result)).toBe(JSON.stringify(result));
    expect(entryJson(result, '"index":2,')).toBe(
      JSON.stringify({ index: 2, ...JSON.parse(JSON.stringify(result)) }),
    );
  });
});
