import { jest } from '@jest/globals';
import { plainToInstance } from 'class-transformer';
import { getMetadataStorage } from 'class-validator';
import fc from 'fast-check';
import { dtoProblems, hotPathProblems } from '../../test/utils/operation-problems.js';
import { BATCH_METHODS } from '../batch.constants.js';
import { InvalidBatchException } from '../batch.exceptions.js';
import { BatchRequestDto } from './batch-operation.dto.js';
import { decodeOperations } from './operation.rules.js';

const scalar = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.double(),
);
/** Any JSON value, a few levels deep. */
const anyJson = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    scalar,
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 4 }), tie('value'), { maxKeys: 3 }),
  ),
})).value;
const method = fc.oneof(
  fc.constantFrom(...BATCH_METHODS),
  fc.constantFrom(...BATCH_METHODS).map((m) => m.toLowerCase()),
  fc.constantFrom('TRACE', 'CONNECT', 'get ', ''),
  anyJson,
);
const url = fc.oneof(
  fc.constantFrom(
    '/item',
    '/a/b?x=1',
    '/a/%2e%2e/b',
    '//host/x',
    'http://x/y',
    '/a#f',
    '/a b',
    '/a\\b',
  ),
  fc.webPath().map((p) => `/${p}`),
  fc.string({ maxLength: 16 }),
  anyJson,
);
const name = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9_.~-]{1,8}$/),
  fc.string({ maxLength: 10 }),
  anyJson,
);
const dependsOn = fc.oneof(fc.array(fc.stringMatching(/^[a-z]{1,4}$/), { maxLength: 3 }), anyJson);
/**
 * Keys class-transformer leaves out of the instance because the DTO's prototype has them
 * (`constructor`, `toString`, ...): class-validator then never sees them, where the hot path
 * refuses them as unknown fields (asserted on its own below).
 */
const inherited = new Set(Object.getOwnPropertyNames(Object.prototype));
const extraKey = fc.string({ minLength: 1, maxLength: 8 }).filter((key) => !inherited.has(key));

const operation = fc
  .record(
    {
      method,
      url,
      bodyEncoding: fc.oneof(fc.constantFrom('base64', 'hex'), anyJson),
      name,
      dependsOn,
      omitResponseOnSuccess: fc.oneof(fc.boolean(), anyJson),
      extra: fc.dictionary(extraKey, anyJson, { maxKeys: 2 }),
    },
    { requiredKeys: [] },
  )
  .map(({ extra, ...fields }) => {
    const op: Record<string, unknown> = { ...extra, ...fields };
    // A body that is valid whatever bodyEncoding says, so only the field rules speak.
    if (op.bodyEncoding === 'base64') op.body = 'AAAA';
    return op;
  });
const mostlyValid = fc.record({
  method: fc.constantFrom(...BATCH_METHODS, 'get', 'post'),
  url: fc.webPath().map((p) => `/${p}`),
  name: fc.option(fc.stringMatching(/^[A-Za-z0-9_.~-]{1,8}$/), { nil: undefined }),
  omitResponseOnSuccess: fc.option(fc.boolean(), { nil: undefined }),
});

describe('the hot-path operation validator', () => {
  it('agrees with class-validator on the DTOs, messages and their order included', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(operation, mostlyValid), { minLength: 1, maxLength: 6 }),
        (data) => {
          const ops = data as Record<string, unknown>[];
          expect(hotPathProblems(ops)).toEqual(dtoProblems(ops));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('decodes what class-validator accepts to the same fields (method upper-cased by the DTO)', () => {
    fc.assert(
      fc.property(fc.array(mostlyValid, { minLength: 1, maxLength: 6 }), (data) => {
        const ops = data.map((op) => JSON.parse(JSON.stringify(op)) as Record<string, unknown>);
        if (dtoProblems(ops).length > 0) return;
        const dto = plainToInstance(BatchRequestDto, { data: ops });
        const decoded = decodeOperations(ops, 1000, 'data');
        decoded.forEach((op, index) => {
          const { headers, ...fields } = op;
          expect(headers).toEqual({});
          expect(fields).toEqual(Object.fromEntries(Object.entries(dto.data[index] ?? {})));
        });
      }),
    );
  });

  it('refuses fields named like Object.prototype members, which class-transformer drops unseen', () => {
    expect(dtoProblems([{ method: 'GET', url: '/a', toString: 1 }])).toEqual([]);
    expect(hotPathProblems([{ method: 'GET', url: '/a', toString: 1 }])).toEqual([
      'data.0.property toString should not exist',
    ]);
  });

  it("does not ask class-validator's metadata storage per operation (its scan grows with the app)", () => {
    const storage = getMetadataStorage();
    decodeOperations([{ method: 'GET', url: '/warm' }], 10, 'data');
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
