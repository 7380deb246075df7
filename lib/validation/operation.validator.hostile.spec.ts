import fc from 'fast-check';
import { dtoProblems, hotPathProblems } from '../../test/utils/operation-problems.js';
import { BATCH_METHODS } from '../batch.constants.js';
import { decodeOperations } from './operation.rules.js';

/**
 * The hot-path validator against class-validator on the inputs an attacker would try and the
 * property test (operation.validator.spec.ts) draws rarely or never: the values the `@IsIn` Set
 * and the `@IsOptional` shortcut decide on, Unicode look-alikes of allowed strings, values of
 * other types, and keys that collide with Object.prototype.
 */

const FIELDS = [
  'method',
  'url',
  'bodyEncoding',
  'name',
  'dependsOn',
  'omitResponseOnSuccess',
  'atomicityGroup',
];

/**
 * Values the property test draws rarely or never: those the `@IsIn` Set and the `@IsOptional`
 * shortcut decide on (null, NaN, -0, look-alikes of the allowed strings under Unicode case
 * mapping), values of other types, and what only `execute()` from code can pass (NaN, bigint,
 * Infinity, a function, a Date).
 */
const hostile: unknown[] = [
  null,
  undefined,
  NaN,
  -0,
  0,
  1,
  Infinity,
  -Infinity,
  '',
  ' ',
  true,
  false,
  [],
  [null],
  ['GET'],
  [['a']],
  {},
  { GET: true },
  new Date(0),
  () => 'GET',
  10n,
  'ǆ', // title/upper case mappings of a digraph
  'ǅ',
  'ı', // dotless i: upper-cases to I
  'optıons', // upper-cases to OPTIONS
  'poſt', // long s: upper-cases to POST
  'poﬆ', // ligature st: upper-cases to POST
  'ｇｅｔ', // fullwidth: upper-cases to fullwidth, not GET
  'get\u0000',
  'GET\u200b',
  'base64',
  'BASE64',
  'baſe64',
  'base64 ',
  'a',
  'a'.repeat(129),
  'constructor',
  '__proto__',
  'toString',
];

/** Keys that collide with Object.prototype or look like the DTO's own keys. */
const oddKeys = [
  'Method',
  'METHOD',
  'method ',
  ' url',
  'méthod',
  'bodyencoding',
  'dependsOn\u0000',
  'length',
  '0',
  '-1',
  'prototype',
];

/** A body valid whatever bodyEncoding says (as in the property test), so only field rules speak. */
const base = (): Record<string, unknown> => ({
  method: 'GET',
  url: '/item',
  body: 'AAAA',
});

describe('the hot-path validator against class-validator, on inputs the property test rarely draws', () => {
  it.each(FIELDS.flatMap((field) => hostile.map((value) => [field, value] as const)))(
    '%s = %p',
    (field, value) => {
      const op = { ...base(), [field]: value };
      expect(hotPathProblems([op])).toEqual(dtoProblems([op]));
    },
  );

  it.each(oddKeys)('an unknown key %p is refused by both, with the same message', (key) => {
    const op = { ...base(), [key]: 1 };
    expect(hotPathProblems([op])).toEqual(dtoProblems([op]));
    expect(hotPathProblems([op])).toEqual([`data.0.property ${key} should not exist`]);
  });

  it('an own __proto__ key from JSON is refused, and pollutes nothing', () => {
    const op = JSON.parse('{"method":"GET","url":"/item","__proto__":{"polluted":true}}') as Record<
      string,
      unknown
    >;
    expect(hotPathProblems([op])).toEqual(['data.0.property __proto__ should not exist']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('a __proto__ key that names a DTO field as the prototype adds no field', () => {
    const op = JSON.parse('{"url":"/item","__proto__":{"method":"GET"}}') as Record<
      string,
      unknown
    >;
    // Own keys only: `method` lives on the prototype the key would give, not on the item.
    expect(hotPathProblems([op])).toContain('data.0.property __proto__ should not exist');
    expect(hotPathProblems([op])).toContain(
      `data.0.method must be one of the following values: ${BATCH_METHODS.join(', ')}`,
    );
  });

  it('pairs of hostile values on two fields at once agree, messages and order included', () => {
    const field = fc.constantFrom(...FIELDS);
    const value = fc.constantFrom(...hostile);
    fc.assert(
      fc.property(field, value, field, value, (a, x, b, y) => {
        const op = { ...base(), [a]: x, [b]: y };
        expect(hotPathProblems([op])).toEqual(dtoProblems([op]));
      }),
      { numRuns: 1500 },
    );
  });

  it('every upper-case mapping that lands on an allowed method is accepted by both', () => {
    // The decoded method is the transformed one, so the look-alike runs as the real method:
    // both validators agree, and whatever reads `method` later sees only the upper-cased value.
    for (const lookalike of ['optıons', 'poſt', 'poﬆ']) {
      const op = { method: lookalike, url: '/item' };
      expect(dtoProblems([op])).toEqual([]);
      expect(hotPathProblems([op])).toEqual([]);
      const [decoded] = decodeOperations([op], 10, 'data');
      expect(BATCH_METHODS).toContain(decoded?.method);
    }
  });
});

describe('null in an optional field', () => {
  it('is accepted by both validators, as @IsOptional() skips null', () => {
    const op = {
      method: 'GET',
      url: '/item',
      name: null,
      atomicityGroup: null,
      dependsOn: null,
    };
    expect(dtoProblems([op])).toEqual([]);
    expect(hotPathProblems([op])).toEqual([]);
  });

  // Read as absent by the decoder: BatchOperation's types say `string | undefined`, and kept, two
  // such operations "shared the name null" and `atomicityGroup: null` formed a group.
  it('does not reach the decoded operation as null', () => {
    const [decoded] = decodeOperations(
      [{ method: 'GET', url: '/item', name: null, atomicityGroup: null }],
      10,
      'data',
    );
    expect(decoded).not.toHaveProperty('name');
    expect(decoded).not.toHaveProperty('atomicityGroup');
  });
});
