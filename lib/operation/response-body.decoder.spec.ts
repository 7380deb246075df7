import { inspect } from 'node:util';
import { jest } from '@jest/globals';
import type { BatchResult } from '../interfaces/batch-operation.interface.js';
import { jsonTextBytes } from '../validation/json-string.size.js';
import {
  base64ChunksOf,
  DecodedChunks,
  type DecodedBody,
  decodeResponseBody,
  JsonTextResult,
  jsonTextOf,
  setEntryBody,
  withHeaders,
} from './response-body.decoder.js';

const written = (value: unknown): number => Buffer.byteLength(JSON.stringify(value));

describe('decodeResponseBody', () => {
  it.each([
    ['JSON', 'application/json', Buffer.from('{"a":[1,2]}'), { a: [1, 2] }],
    ['text', 'text/plain', Buffer.from('héllo "x"\n'), 'héllo "x"\n'],
    [
      'JSON after more whitespace than the first bytes looked at',
      'application/json',
      Buffer.from(`${' \r\n\t'.repeat(40)}{"a":1}`),
      { a: 1 },
    ],
    ['text without a type', undefined, Buffer.from('plain'), 'plain'],
    // Ordinary text that escapes take up to twice its bytes stays text: what the client reads.
    ['short lines of text', 'text/plain', Buffer.from('1\n'.repeat(500)), '1\n'.repeat(500)],
    ['quoted CSV', 'text/csv', Buffer.from('"a","b"\n'.repeat(200)), '"a","b"\n'.repeat(200)],
    ['quotes typed text', 'text/plain', Buffer.alloc(3000, 0x22), '"'.repeat(3000)],
  ])('gives %s', (_, type, bytes, body) => {
    const decoded = decodeResponseBody(bytes, type);
    expect(decoded?.body).toEqual(body);
    expect(decoded?.bodyEncoding).toBeUndefined();
    if (typeof body === 'string') expect(decoded?.written).toBe(written(body));
  });

  it.each([
    ['NUL bytes typed JSON (6 bytes each escaped)', 'application/json', Buffer.alloc(3000)],
    // As text, it would read as a JSON string the app sent.
    ['JSON that does not parse', 'application/json', Buffer.from('{oops')],
    ["an XSSI prefix before JSON (Angular's)", 'application/json', Buffer.from(`)]}',\n{"a":1}`)],
    ['JSON after a byte order mark', 'application/json', Buffer.from('\uFEFF{"a":1}')],
    ['control bytes typed text', 'text/plain', Buffer.alloc(3000, 1)],
    ['invalid UTF-8 typed text (U+FFFD would lose them)', 'text/plain', Buffer.alloc(3000, 0xff)],
  ])('gives %s in base64, every byte kept', (_, type, bytes) => {
    const decoded = decodeResponseBody(bytes, type);
    expect(decoded?.bodyEncoding).toBe('base64');
    expect(Buffer.from(decoded?.body as string, 'base64').equals(bytes)).toBe(true);
    expect(decoded?.written).toBe(written(decoded?.body));
  });

  it('makes nothing of a body that would pass maxWritten', () => {
    expect(
      decodeResponseBody(Buffer.alloc(3000), 'application/json', false, undefined, 3999),
    ).toBeUndefined();
    expect(
      decodeResponseBody(Buffer.from('x'.repeat(100)), 'text/plain', false, undefined, 101),
    ).toBeUndefined();
    expect(
      decodeResponseBody(Buffer.from('x'.repeat(100)), 'text/plain', false, undefined, 102)?.body,
    ).toBe('x'.repeat(100));
  });
});

describe('jsonTextBytes', () => {
  it('counts what JSON.stringify writes of the UTF-8 text, escapes included', () => {
    const samples = ['', 'abc', 'a"b\\c', '\u0000\u0001\b\t\n\f\r\u001f', 'é€😀 ok', '\u007f'];
    for (const text of samples) {
      expect([text, jsonTextBytes(Buffer.from(text), Infinity)]).toEqual([text, written(text)]);
    }
  });

  it('stops once past its limit', () => {
    // 1000 NULs are 6002 bytes written; the count ends at the first escape past 2000.
    const count = jsonTextBytes(Buffer.alloc(1000), 2000);
    expect(count).toBeGreaterThan(2000);
    expect(count).toBeLessThanOrEqual(2005);
  });
});

describe('decodeResponseBody of decoded chunks', () => {
  /** `bytes` cut into chunks of the given sizes, in turn, as a decoder might make them. */
  const chunked = (bytes: Buffer, sizes: readonly number[], cap?: number): DecodedChunks => {
    const chunks = new DecodedChunks(cap);
    for (let at = 0, i = 0; at < bytes.length; i++) {
      const size = sizes[i % sizes.length] as number;
      chunks.add(bytes.subarray(at, at + size));
      at += size;
    }
    return chunks;
  };
  // Sizes that are not multiples of 3 and cut UTF-8 sequences of 2, 3 and 4 bytes.
  const cuts = [[1], [2], [4], [5, 1, 7], [1000, 1, 2], [65_537]];
  const bodies: [string, string | undefined, Buffer][] = [
    ['NUL bytes typed JSON', 'application/json', Buffer.alloc(3001)],
    [
      'bytes 0-255 typed JSON',
      'application/json',
      Buffer.from(Array.from({ length: 3001 }, (_, i) => i % 256)),
    ],
    ['accented text', 'text/plain', Buffer.from('héllo wörld € 𝄞 "q"\n'.repeat(200))],
    ['JSON', 'application/json', Buffer.from(JSON.stringify({ a: 'é€𝄞'.repeat(300), b: [1, 2] }))],
    ['JSON that does not parse', 'application/json', Buffer.from('{oops é'.repeat(100))],
    [
      'a cut sequence at the end',
      'text/plain',
      Buffer.concat([Buffer.from('abc'.repeat(100)), Buffer.from('€').subarray(0, 2)]),
    ],
    [
      'a stray continuation byte',
      'text/plain',
      Buffer.concat([Buffer.from('ab'), Buffer.from([0x80]), Buffer.from('cd'.repeat(50))]),
    ],
    ['an overlong sequence', 'text/plain', Buffer.from([0x61, 0xe0, 0x80, 0x80, 0x62])],
    ['a surrogate in UTF-8', 'text/plain', Buffer.from([0x61, 0xed, 0xa0, 0x80, 0x62])],
    ['half control bytes', 'text/plain', Buffer.from('\u0001a'.repeat(1500))],
    ['binary', 'image/png', Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 31) % 256))],
  ];

  /** What a result carries of a decoded body: set on a result as the runner sets it. */
  const carried = (decoded: DecodedBody | undefined): object | undefined => {
    if (decoded === undefined) return undefined;
    const { body, base64Of, ...rest } = decoded;
    const result: { body?: unknown } = {};
    setEntryBody(result, decoded);
    return { ...rest, body: result.body, made: body !== undefined || base64Of !== undefined };
  };

  it.each(bodies)('decides %s as the whole body does, however it was cut', (_, type, bytes) => {
    for (const maxWritten of [Infinity, bytes.length + 2, bytes.length * 2, bytes.length * 3]) {
      const whole = carried(decodeResponseBody(bytes, type, false, undefined, maxWritten));
      for (const sizes of cuts) {
        const parts = carried(
          decodeResponseBody(chunked(bytes, sizes), type, false, undefined, maxWritten),
        );
        expect({ sizes, maxWritten, parts }).toEqual({ sizes, maxWritten, parts: whole });
      }
    }
  });

  it('gives base64 made a chunk at a time, the same as the whole body in base64', () => {
    const bytes = Buffer.from(Array.from({ length: 10_000 }, (_, i) => (i * 13) % 256));
    for (const sizes of cuts) {
      const chunks = chunked(bytes, sizes);
      const decoded = decodeResponseBody(chunks, 'application/octet-stream');
      expect(decoded?.base64Of).toBe(chunks);
      expect(chunks.base64()).toBe(bytes.toString('base64'));
      expect([...chunks.base64Pieces()].join('')).toBe(bytes.toString('base64'));
    }
  });

  it('makes the base64 body of a result when it is read, and takes a body set since', () => {
    const bytes = Buffer.from('\u0000é'.repeat(100));
    const chunks = chunked(bytes, [7]);
    const result: { body?: unknown } = {};
    setEntryBody(result, { bodyEncoding: 'base64', base64Of: chunks });
    expect(base64ChunksOf(result)).toBe(chunks);
    expect({ ...result }).toEqual({ body: bytes.toString('base64') });
    expect(JSON.stringify(result)).toBe(JSON.stringify({ body: bytes.toString('base64') }));
    result.body = 'other';
    expect(result.body).toBe('other');
    expect(base64ChunksOf(result)).toBeUndefined();
  });

  it('gives every base64 result the same accessors, each its own body', () => {
    // Accessors made per result gave each a hidden class of its own (CONTRIBUTING.md).
    const made = ['a', 'bb'].map((text) => {
      const result: { body?: unknown } = {};
      setEntryBody(result, { bodyEncoding: 'base64', base64Of: chunked(Buffer.from(text), [1]) });
      return { result, accessors: Object.getOwnPropertyDescriptor(result, 'body') };
    });
    const [first, second] = made;
    expect(first?.accessors?.get).toBe(second?.accessors?.get);
    expect(first?.accessors?.set).toBe(second?.accessors?.set);
    expect(made.map(({ result }) => result.body)).toEqual(['YQ==', 'YmI=']);
    // Read, each is still written from its own chunks.
    expect(made.map(({ result }) => base64ChunksOf(result)?.base64())).toEqual(['YQ==', 'YmI=']);
  });

  it('stops counting at its cap, still deciding as the whole body does', () => {
    const bytes = Buffer.alloc(3000);
    const capped = chunked(bytes, [100], 2 * (Math.ceil(3000 / 3) * 4 + 2));
    expect(carried(decodeResponseBody(capped, 'application/json'))).toEqual(
      carried(decodeResponseBody(bytes, 'application/json')),
    );
  });
});

describe('withHeaders', () => {
  it("keeps the app's JSON text, and the fields in their order", () => {
    const result = new JsonTextResult('GET', '/a', 200, { 'set-cookie': 'c=1' }, '{"b":1.50}');
    result.decodedContentEncoding = 'gzip';
    const copy = withHeaders(result, {});
    expect(jsonTextOf(copy)).toBe('{"b":1.50}');
    expect(Object.keys(copy)).toEqual(Object.keys(result));
    expect(copy).toEqual({
      method: 'GET',
      url: '/a',
      code: 200,
      headers: {},
      body: { b: 1.5 },
      decodedContentEncoding: 'gzip',
    });
    expect(result.headers).toEqual({ 'set-cookie': 'c=1' });
  });

  it('parses the body of JSON text when it is read, once, and writes a body set since', () => {
    const parse = jest.spyOn(JSON, 'parse');
    try {
      const result = new JsonTextResult('GET', '/a', 200, {}, '{"b":[1,2.50]}');
      const copy = withHeaders(result, { a: 'b' });
      expect(jsonTextOf(copy)).toBe('{"b":[1,2.50]}');
      expect(parse).not.toHaveBeenCalled();
      expect(result.body).toEqual({ b: [1, 2.5] });
      expect(result.body).toBe(result.body);
      expect(parse).toHaveBeenCalledTimes(1);
      // Copied, serialised or logged, the result shows its body like any other property.
      const copied = Object.assign({}, result) as { body?: unknown };
      expect(copied.body).toEqual({ b: [1, 2.5] });
      expect(JSON.parse(JSON.stringify(result))).toEqual(copied);
      expect(inspect(result)).toContain('body: { b: [ 1, 2.5 ] }');
      expect(jsonTextOf(result)).toBe('{"b":[1,2.50]}');
      result.body = { c: 1 };
      expect(result.body).toEqual({ c: 1 });
      expect(jsonTextOf(result)).toBeUndefined();
      // A copy made after the read keeps the parsed value.
      expect(jsonTextOf(copy)).toBe('{"b":[1,2.50]}');
      delete (copy as { body?: unknown }).body;
      expect(jsonTextOf(copy)).toBeUndefined();
    } finally {
      parse.mockRestore();
    }
  });

  it("keeps a decoded body's chunks, unread, and a body set on the copy is the copy's", () => {
    const chunks = new DecodedChunks();
    chunks.add(Buffer.alloc(100 * 1024, 7));
    const made = jest.spyOn(chunks, 'base64');
    const result: BatchResult = {
      method: 'GET',
      url: '/a',
      code: 200,
      headers: { 'set-cookie': 'c=1' },
    };
    setEntryBody(result, { bodyEncoding: 'base64', base64Of: chunks });
    result.bodyEncoding = 'base64';
    const copy = withHeaders(result, {});
    expect(made).not.toHaveBeenCalled();
    expect(base64ChunksOf(copy)).toBe(chunks);
    expect(Object.keys(copy)).toEqual(Object.keys(result));
    copy.body = 'other';
    expect(result.body).toBe(chunks.base64());
    expect(copy.body).toBe('other');
  });
});
