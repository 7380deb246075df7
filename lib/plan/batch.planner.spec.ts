import { InvalidBatchException } from '../batch.exceptions.js';
import type { BatchOperation } from '../interfaces/batch-operation.interface.js';
import { planBatch } from './batch.planner.js';

const op = (extra: Partial<BatchOperation> = {}): BatchOperation => ({
  method: 'GET',
  url: '/x',
  ...extra,
});

const problemsOf = (operations: BatchOperation[]): string[] => {
  try {
    planBatch(operations);
  } catch (error) {
    if (error instanceof InvalidBatchException) return [...error.problems];
    throw error;
  }
  throw new Error('planned without a problem');
};

describe('planBatch', () => {
  it('turns dependsOn and references into edges, without duplicates', () => {
    const plan = planBatch([
      op({ name: 'a' }),
      op({ name: 'b' }),
      op({ url: '/x/{result=a:$.id}/{result=a:$.v}', dependsOn: ['a', 'b'] }),
      op({ headers: { 'x-id': '{result=b:$.id}' }, body: { n: ['{result=a:$.n}'] } }),
    ]);
    expect(plan.operations.map((planned) => [...planned.dependencies].sort())).toEqual([
      [],
      [],
      [0, 1],
      [0, 1],
    ]);
    expect(plan.dependents).toEqual([[2, 3], [2, 3], [], []]);
  });

  it('reports every problem at once, naming the operations', () => {
    expect(
      problemsOf([
        op({ name: 'a' }),
        op({ name: 'a' }),
        op({ dependsOn: ['ghost'] }),
        op({ name: 'me', dependsOn: ['me'] }),
        op({ url: '/{result=nobody:$.id}' }),
        op({ url: '/{result=a:$[?@.x]}' }),
      ]),
    ).toEqual([
      'operations 0 and 1 share the name "a"',
      'operation 2 depends on unknown operation "ghost"',
      'operation 3 ("me") depends on itself',
      'operation 4 refers to unknown operation "nobody"',
      expect.stringMatching(/^operation 5: url: reference .* uses a filter/),
    ]);
  });

  it.each([2, 3, 7])('finds a cycle of length %i and names its members', (length) => {
    const operations = Array.from({ length }, (_, i) =>
      op({ name: `n${i}`, dependsOn: [`n${(i + 1) % length}`] }),
    );
    // An innocent operation that depends on the cycle is not part of the message.
    operations.push(op({ name: 'tail', dependsOn: ['n0'] }));
    const [problem] = problemsOf(operations);
    expect(problem).toMatch(/^dependency cycle/);
    for (let i = 0; i < length; i++) expect(problem).toContain(`("n${i}")`);
    expect(problem).not.toContain('tail');
  });

  it('refuses a body nested too deep instead of overflowing the stack later', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 10_000; i++) deep = [deep];
    expect(problemsOf([op({ body: deep })])[0]).toMatch(/nested deeper than/);
  });

  it('plans a long chain in one pass', () => {
    const operations = Array.from({ length: 5000 }, (_, i) =>
      op({ name: `n${i}`, dependsOn: i === 0 ? [] : [`n${i - 1}`] }),
    );
    expect(planBatch(operations).dependents[0]).toEqual([1]);
  });
});

describe('planBatch with atomic groups', () => {
  it('makes each group one unit, waiting for what its members wait for outside it', () => {
    const plan = planBatch([
      op({ name: 'before' }),
      op({ name: 'a1', atomicityGroup: 'A' }),
      op({ name: 'a2', atomicityGroup: 'A', url: '/x/{result=a1:$.id}', dependsOn: ['before'] }),
      op({ name: 'after', dependsOn: ['A'] }),
    ]);
    expect(plan.groups).toEqual([{ name: 'A', members: [1, 2] }]);
    const units = plan.units;
    expect(units?.units).toEqual([[1, 2], [0], [3]]);
    expect(units?.dependencies).toEqual([[1], [], [0]]);
  });

  it('refuses a loop through a group: an operation outside it between two of its members', () => {
    expect(
      problemsOf([
        op({ name: 'a1', atomicityGroup: 'A' }),
        op({ name: 'x', dependsOn: ['a1'] }),
        op({ name: 'a2', atomicityGroup: 'A', dependsOn: ['x'] }),
      ]),
    ).toEqual([
      expect.stringMatching(
        /dependency cycle through an atomic group.*atomicity group "A" -> operation 1 \("x"\) -> atomicity group "A"/,
      ),
    ]);
  });

  it('refuses a member depending on its own group, and a reference naming a group', () => {
    expect(
      problemsOf([
        op({ atomicityGroup: 'A', dependsOn: ['A'] }),
        op({ url: '/x/{result=A:$.id}' }),
      ]),
    ).toEqual([
      'operation 0 depends on its own atomicity group "A"',
      'operation 1 refers to unknown operation "A"',
    ]);
  });

  it('names each planned operation as messages do, by index and by name when it has one', () => {
    const plan = planBatch([op(), op({ name: 'b' }), op({ url: '/x/{result=b:$.id}' })]);
    expect(plan.operations.map((planned) => planned.label)).toEqual([
      'operation 0',
      'operation 1 ("b")',
      'operation 2',
    ]);
    expect(plan.operations.map((planned) => planned.index)).toEqual([0, 1, 2]);
    expect(plan.groups).toEqual([]);
    expect(plan.units).toBeUndefined();
    expect([...plan.names]).toEqual([['b', 1]]);
  });

  it('plans a batch with a group and one without alike, each to its own plan', () => {
    const grouped = planBatch([op({ atomicityGroup: 'G' }), op({ atomicityGroup: 'G' }), op()]);
    expect(grouped.groups).toEqual([{ name: 'G', members: [0, 1] }]);
    expect(grouped.units?.units).toEqual([[0, 1], [2]]);
    const plain = planBatch([op(), op()]);
    expect(plain.groups).toEqual([]);
    expect(plain.units).toBeUndefined();
  });
});
