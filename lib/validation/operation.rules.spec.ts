import { InvalidBatchException } from '../batch.exceptions.js';
import type { BatchOperation } from '../interfaces/batch-operation.interface.js';
import { decodeOperations, validatedOperations } from './operation.rules.js';

describe('validatedOperations: the boundary every entry point shares', () => {
  const decoded = decodeOperations(
    [{ method: 'get', url: '/echo', headers: { 'X-A': '1' }, name: 'a' }],
    5,
    'data',
  );

  it('takes a list the decoder made as it is', () => {
    expect(validatedOperations(decoded, 5)).toBe(decoded);
    expect(decoded[0]).toEqual({ method: 'GET', url: '/echo', headers: { 'x-a': '1' }, name: 'a' });
  });

  it('keeps what the decoder made as it was validated: the list, its operations and headers are frozen', () => {
    expect(Object.isFrozen(decoded)).toBe(true);
    expect(Object.isFrozen(decoded[0])).toBe(true);
    expect(Object.isFrozen(decoded[0]?.headers)).toBe(true);
    expect(() => (decoded as BatchOperation[]).push({ method: 'GET', url: '//evil' })).toThrow(
      TypeError,
    );
  });

  it('validates anything else, even a copy of a validated list, by the same rules', () => {
    const copy = [...decoded];
    const again = validatedOperations(copy, 5);
    expect(again).not.toBe(copy);
    expect(again).toEqual(decoded);
    expect(() =>
      validatedOperations([{ method: 'GET', url: 'http://evil.example/secret' }], 5),
    ).toThrow(InvalidBatchException);
    for (const text of [
      '[{"method":"GET","url":"/echo","__proto__":{"method":"DELETE"}}]',
      '[{"method":"POST","url":"/echo","body":{"a":{"__proto__":{"admin":true}}}}]',
    ]) {
      expect(() => validatedOperations(JSON.parse(text), 5)).toThrow(
        expect.objectContaining({ problems: [expect.stringContaining('"__proto__" key')] }),
      );
    }
    expect(validatedOperations([{ method: 'POST', url: '/f', body: Buffer.alloc(3) }], 5)).toEqual([
      { method: 'POST', url: '/f', headers: {}, body: Buffer.alloc(3) },
    ]);
    expect(() => validatedOperations({ method: 'GET', url: '/echo' }, 5)).toThrow(
      expect.objectContaining({ problems: ['operations must be an array of operations'] }),
    );
  });
});

describe('decodeOperations: what it makes', () => {
  it('makes each operation a plain object, its fields in the order of the native shape', () => {
    const [full, bare] = decodeOperations(
      [
        {
          atomicityGroup: 'g',
          omitResponseOnSuccess: true,
          dependsOn: ['b'],
          name: 'a',
          body: { n: 1 },
          headers: { 'X-A': '1' },
          url: '/item',
          method: 'post',
        },
        { url: '/item', method: 'GET', name: 'b' },
      ],
      10,
      'data',
    );
    expect(Object.getPrototypeOf(full)).toBe(Object.prototype);
    expect(full).toStrictEqual({
      method: 'POST',
      url: '/item',
      headers: { 'x-a': '1' },
      body: { n: 1 },
      name: 'a',
      dependsOn: ['b'],
      omitResponseOnSuccess: true,
      atomicityGroup: 'g',
    });
    expect(Object.keys(full ?? {})).toEqual([
      'method',
      'url',
      'headers',
      'body',
      'name',
      'dependsOn',
      'omitResponseOnSuccess',
      'atomicityGroup',
    ]);
    expect(bare).toStrictEqual({ method: 'GET', url: '/item', headers: {}, name: 'b' });
    expect(Object.keys(bare ?? {})).toEqual(['method', 'url', 'headers', 'name']);
    expect(JSON.stringify(bare)).toBe('{"method":"GET","url":"/item","headers":{},"name":"b"}');
  });
});

describe('decodeOperations: a list with a hole', () => {
  it('names the missing operation, as it does any item that is not an object', () => {
    // eslint-disable-next-line no-sparse-arrays
    const sparse: unknown[] = [{ method: 'GET', url: '/a' }, , { method: 'GET', url: '/b' }];
    expect(() => decodeOperations(sparse, 5, 'operations')).toThrow(
      expect.objectContaining({ problems: ['operations.1 must be an object'] }),
    );
  });
});

describe('decodeOperations: null in an optional field', () => {
  // `@IsOptional()` lets null through (class-validator skips null and undefined alike), so the
  // decoder must read it as absent: kept, two operations "shared the name null".
  it('reads null as absent in every optional field', () => {
    const [decoded] = decodeOperations(
      [
        {
          method: 'GET',
          url: '/item',
          name: null,
          dependsOn: null,
          omitResponseOnSuccess: null,
          atomicityGroup: null,
          bodyEncoding: null,
        },
      ],
      10,
      'data',
    );
    expect(decoded).toEqual({ method: 'GET', url: '/item', headers: {} });
  });

  it('lets two operations both have a null name', () => {
    const operations = decodeOperations(
      [
        { method: 'GET', url: '/a', name: null },
        { method: 'GET', url: '/b', name: null },
      ],
      10,
      'data',
    );
    expect(operations.map((operation) => operation.name)).toEqual([undefined, undefined]);
  });
});
