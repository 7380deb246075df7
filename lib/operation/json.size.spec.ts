import { jest } from '@jest/globals';
import fc from 'fast-check';
import { MAX_BODY_DEPTH } from '../plan/json.template.js';
import { jsonStringBytes } from '../validation/json-string.size.js';
import { JsonSizer } from './json.size.js';

const bytesOf = (value: unknown): number => Buffer.byteLength(JSON.stringify(value));

describe('JsonSizer', () => {
  it('measures exactly what JSON.stringify writes, in UTF-8 bytes', () => {
    const sizer = new JsonSizer();
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(sizer.json(value, Infinity)).toBe(bytesOf(value));
      }),
      { numRuns: 500 },
    );
  });

  it('counts escapes, non-ASCII text and lone surrogates as written', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        expect(jsonStringBytes(text, Infinity)).toBe(bytesOf(text));
      }),
      { numRuns: 500 },
    );
    for (const text of ['"\\\b\f\n\r\t\u0001\u001f', 'é€😀', '\ud800x', 'x\udc00']) {
      expect(jsonStringBytes(text, Infinity)).toBe(bytesOf(text));
    }
  });

  it('stops once past its limit, answering a number above it', () => {
    const sizer = new JsonSizer();
    fc.assert(
      fc.property(fc.jsonValue(), fc.nat({ max: 200 }), (value, limit) => {
        const bytes = sizer.json(value, limit);
        if (bytesOf(value) <= limit) expect(bytes).toBe(bytesOf(value));
        else expect(bytes).toBeGreaterThan(limit);
      }),
      { numRuns: 500 },
    );
  });

  it('measures a huge value in work bounded by the limit, not by its size', () => {
    // Counted reads, not a clock: the machines that run the tests are shared and noisy.
    let reads = 0;
    const huge = new Proxy(
      Array.from({ length: 1_000_000 }, (_, id) => ({ id, name: `item ${id}` })),
      {
        get(target, key, receiver) {
          if (typeof key === 'string' && /^\d+$/.test(key)) reads++;
          return Reflect.get(target, key, receiver) as unknown;
        },
      },
    );
    expect(new JsonSizer().json(huge, 1000)).toBeGreaterThan(1000);
    // Each item is at least 25 bytes: about 40 are read before the walk passes 1000.
    expect(reads).toBeLessThan(100);
  });

  it('measures a subtree once per batch, however many matches hold it', () => {
    const shared = { list: Array.from({ length: 10 }, (_, id) => ({ id })) };
    const sizer = new JsonSizer();
    expect(sizer.json(shared, Infinity)).toBe(bytesOf(shared));
    // A new array around the same subtree: its size comes from the first walk, not a second one.
    const spy = jest.spyOn(Object, 'keys');
    const bytes = sizer.json([shared, shared], Infinity);
    const walked = spy.mock.calls.length;
    spy.mockRestore();
    expect(bytes).toBe(bytesOf([shared, shared]));
    expect(walked).toBe(0);
  });

  it('refuses a value nested deeper than a body may be', () => {
    let deep: unknown = 1;
    for (let i = 0; i <= MAX_BODY_DEPTH; i++) deep = [deep];
    expect(() => new JsonSizer().json(deep, Infinity)).toThrow(/nested deeper than 256 levels/);
  });
});
