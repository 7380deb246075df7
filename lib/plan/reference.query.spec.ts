import fc from 'fast-check';
import { parseTemplate, type Reference } from './reference.parser.js';
import { evaluateReference, type QueryBudget } from './reference.query.js';
import { RenderLimitError } from './render.limits.js';

const referenceTo = (path: string): Reference => {
  const [reference] = parseTemplate(`{result=a:${path}}`) ?? [];
  if (reference === undefined || typeof reference === 'string') throw new Error(path);
  return reference;
};
const budget = (maxMatches = Infinity, maxNodes = Infinity): QueryBudget => ({
  maxMatches,
  maxNodes,
  nodesLeft: maxNodes,
});

const PATHS = [
  '$',
  '$.a',
  "$['a','b']",
  '$.a.b',
  '$[0]',
  '$[-1]',
  '$[1:3]',
  '$[::-1]',
  '$[5:1:-2]',
  '$[-2:]',
  '$[:-1:2]',
  '$[0:0]',
  '$[::0]',
  '$.*',
  '$.*.*',
  '$[*, 0]',
  '$..a',
  '$..*',
  '$..[0]',
  '$..a..b',
  '$.a..[1:]',
  '$..["a", 0]',
];

describe('evaluateReference', () => {
  it.each(PATHS)('matches what json-p3 matches for %s, in the same order', (path) => {
    const reference = referenceTo(path);
    fc.assert(
      fc.property(
        fc.letrec((tie) => ({
          value: fc.oneof(
            { depthSize: 'small' },
            fc.jsonValue({ maxDepth: 0 }),
            fc.array(tie('value'), { maxLength: 6 }),
            fc.dictionary(fc.constantFrom('a', 'b', 'c', '0'), tie('value'), { maxKeys: 4 }),
          ),
        })).value,
        (value) => {
          const expected = reference.query.query(value as never).values();
          expect(evaluateReference(reference, value, budget())).toEqual(expected);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('stops at maxMatches + 1 values, naming maxReferenceMatches', () => {
    const body = Array.from({ length: 100_000 }, (_, id) => ({ id }));
    const query = budget(1000);
    expect(() => evaluateReference(referenceTo('$..*'), body, query)).toThrow(
      /matches more than 1000 values \(maxReferenceMatches\)/,
    );
    // Stopped early: the walk went little further than the values it refused.
    const counted = budget(1000, 10_000);
    expect(() => evaluateReference(referenceTo('$..*'), body, counted)).toThrow(RenderLimitError);
    expect(counted.nodesLeft).toBeGreaterThan(7_000);
  });

  it('takes every visited node from the budget the batch shares, naming maxReferenceNodes', () => {
    const body = { items: Array.from({ length: 1000 }, (_, id) => ({ id })), total: 1000 };
    const query = budget(Infinity, 2_500);
    // The root, the array, 1000 items and their ids, the total: 2003 nodes visited, 1 selected.
    expect(evaluateReference(referenceTo('$..total'), body, query)).toEqual([1000]);
    expect(query.nodesLeft).toBe(2_500 - 2_004);
    expect(() => evaluateReference(referenceTo('$..id'), body, query)).toThrow(
      /would visit more than 2500 nodes .* \(maxReferenceNodes\)/,
    );
  });

  it('walks a body nested far deeper than any stack without overflowing', () => {
    let deep: unknown = { leaf: true };
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(evaluateReference(referenceTo('$..leaf'), deep, budget())).toEqual([true]);
  });
});
