import { jsonTextBytes } from '../validation/json-string.size.js';
import { decodeResponseBody } from './response-body.decoder.js';

const written = (value: unknown): number => Buffer.byteLength(JSON.stringify(value));

describe('decodeResponseBody', () => {
  it.each([
    ['JSON', 'application/json', Buffer.from('{"a":[1,2]}'), { a: [1, 2] }],
    ['text', 'text/plain', Buffer.from('héllo "x"\n'), 'héllo "x"\n'],
    ['JSON that does not parse, as text', 'application/json', Buffer.from('{oops'), '{oops'],
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
