import { jest } from '@jest/globals';
import { getMetadataStorage } from 'class-validator';
import { BATCH_METHODS } from '../batch.constants.js';
import { InvalidBatchException } from '../batch.exceptions.js';
import { checkOperationFields } from './operation.validator.js';
import { decodeOperations } from './operation.rules.js';
import { urlProblem } from './url.rules.js';

const NOT_A_METHOD = `method must be one of the following values: ${BATCH_METHODS.join(', ')}`;
const NAME = 'must be 1-128 characters of A-Z a-z 0-9 _ . ~ -';

/** The problems of one operation's fields, as the endpoint reports them. */
const problemsOf = (operation: Record<string, unknown>): readonly string[] =>
  checkOperationFields(operation).problems;

describe("the operation's field rules", () => {
  it('accepts a valid operation: method upper-cased, dependsOn copied', () => {
    const dependsOn = ['a', 'b'];
    const { fields, problems } = checkOperationFields({
      method: 'patch',
      url: '/items/1?x=1',
      headers: { a: 'b' },
      body: { any: ['thing'] },
      bodyEncoding: null,
      name: 'n-1_.~',
      dependsOn,
      omitResponseOnSuccess: true,
      atomicityGroup: 'g',
    });
    expect(problems).toEqual([]);
    expect(fields).toMatchObject({ method: 'PATCH', url: '/items/1?x=1', dependsOn: ['a', 'b'] });
    expect(fields.dependsOn).not.toBe(dependsOn);
    expect(fields).not.toHaveProperty('headers');
  });

  it.each<[string, Record<string, unknown>, string[]]>([
    ['nothing', {}, [NOT_A_METHOD, 'url must be a string']],
    ['an unknown method', { method: 'TRACE', url: '/' }, [NOT_A_METHOD]],
    ['a method of another type', { method: 1, url: '/' }, [NOT_A_METHOD]],
    ['a null method', { method: null, url: '/' }, [NOT_A_METHOD]],
    ['a fullwidth look-alike method', { method: 'ｇｅｔ', url: '/' }, [NOT_A_METHOD]],
    ['a method with a trailing space', { method: 'get ', url: '/' }, [NOT_A_METHOD]],
    ['a url of another type', { method: 'GET', url: ['/'] }, ['url must be a string']],
    ['an absolute url', { method: 'GET', url: 'http://x/y' }, [`url ${urlProblem('http://x/y')}`]],
    ['a dot segment', { method: 'GET', url: '/a/%2e%2e/b' }, [`url ${urlProblem('/a/%2e%2e/b')}`]],
    [
      'another body encoding',
      { method: 'GET', url: '/', bodyEncoding: 'BASE64' },
      ['bodyEncoding must be "base64" (or absent, for a JSON body)'],
    ],
    [
      'a name of another type',
      { method: 'GET', url: '/', name: 5 },
      [`name ${NAME}`, 'name must be a string'],
    ],
    ['an empty name', { method: 'GET', url: '/', name: '' }, [`name ${NAME}`]],
    ['a name too long', { method: 'GET', url: '/', name: 'a'.repeat(129) }, [`name ${NAME}`]],
    [
      'dependsOn a string',
      { method: 'GET', url: '/', dependsOn: 'a' },
      ['dependsOn must be an array'],
    ],
    [
      'dependsOn a number',
      { method: 'GET', url: '/', dependsOn: 5 },
      ['each value in dependsOn must be a string', 'dependsOn must be an array'],
    ],
    [
      'dependsOn holding a number',
      { method: 'GET', url: '/', dependsOn: ['a', 1] },
      ['each value in dependsOn must be a string'],
    ],
    [
      'omitResponseOnSuccess not a boolean',
      { method: 'GET', url: '/', omitResponseOnSuccess: 'true' },
      ['omitResponseOnSuccess must be a boolean value'],
    ],
    [
      'a group of another type',
      { method: 'GET', url: '/', atomicityGroup: {} },
      [`atomicityGroup ${NAME}`, 'atomicityGroup must be a string'],
    ],
    [
      'an unknown field, with the field it is likely a typo of',
      { method: 'GET', url: '/', dependOn: ['a'] },
      ['property dependOn should not exist; did you mean "dependsOn"?'],
    ],
    [
      'a field named like an Object.prototype member',
      { method: 'GET', url: '/', toString: 1 },
      ['property toString should not exist'],
    ],
    [
      'several problems: unknown fields first, then the fields in order',
      { atomicityGroup: 1, url: 5, zzz: 1, method: 'x' },
      [
        'property zzz should not exist',
        NOT_A_METHOD,
        'url must be a string',
        `atomicityGroup ${NAME}`,
        'atomicityGroup must be a string',
      ],
    ],
  ])('refuses %s, naming each problem', (_what, operation, expected) => {
    expect(problemsOf(operation)).toEqual(expected);
  });

  it('takes null in an optional field as absent, and keeps it out of the decoded operation', () => {
    const operation = { method: 'GET', url: '/item', name: null, atomicityGroup: null };
    expect(problemsOf({ ...operation, dependsOn: null, omitResponseOnSuccess: null })).toEqual([]);
    const [decoded] = decodeOperations([operation], 10, 'data');
    expect(decoded).not.toHaveProperty('name');
    expect(decoded).not.toHaveProperty('atomicityGroup');
  });

  it('runs a method whose upper case is an allowed one as that method', () => {
    // The decoded method is the upper-cased one: whatever reads `method` later sees only it.
    for (const lookalike of ['optıons', 'poſt', 'poﬆ']) {
      const [decoded] = decodeOperations([{ method: lookalike, url: '/item' }], 10, 'data');
      expect(BATCH_METHODS).toContain(decoded?.method);
    }
  });

  it('refuses an own __proto__ key from JSON, and takes no field from the prototype it names', () => {
    const polluting = JSON.parse(
      '{"method":"GET","url":"/","__proto__":{"polluted":true}}',
    ) as Record<string, unknown>;
    expect(problemsOf(polluting)).toEqual(['property __proto__ should not exist']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const hiding = JSON.parse('{"url":"/item","__proto__":{"method":"GET"}}') as Record<
      string,
      unknown
    >;
    expect(problemsOf(hiding)).toEqual(['property __proto__ should not exist', NOT_A_METHOD]);
  });

  it("does not ask class-validator's metadata storage per operation (its scan grows with the app)", () => {
    const storage = getMetadataStorage();
    const scan = jest.spyOn(storage, 'getTargetValidationMetadatas');
    try {
      decodeOperations(
        Array.from({ length: 50 }, (_, i) => ({ method: 'get', url: `/item/${i}`, name: `n${i}` })),
        100,
        'data',
      );
      expect(() => decodeOperations([{ method: 'NOPE', url: '/x' }], 10, 'data')).toThrow(
        InvalidBatchException,
      );
      expect(scan).not.toHaveBeenCalled();
    } finally {
      scan.mockRestore();
    }
  });
});
