import fc from 'fast-check';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { lastValueFrom, toArray } from 'rxjs';
import { doneAtOnce, observableOf, type StartWork } from '../dispatch/operation.task.js';
import { pending } from '../../test/utils/pending-work.js';
import { scheduleGraph } from './dependency.scheduler.js';

/** The run as an Observable, to read with rxjs. */
const scheduled = <R>(...args: Parameters<typeof scheduleGraph<R>>) =>
  observableOf(scheduleGraph<R>(...args));

/** A random DAG: each node may depend only on nodes before it (so there is no cycle). */
const dag = fc.integer({ min: 1, max: 30 }).chain((size) =>
  fc.tuple(
    fc.tuple(
      ...Array.from({ length: size }, (_, i) =>
        fc.uniqueArray(fc.integer({ min: 0, max: Math.max(0, i - 1) }), {
          maxLength: i === 0 ? 0 : 3,
        }),
      ),
    ),
    fc.integer({ min: 1, max: 5 }),
    fc.array(fc.boolean(), { minLength: size, maxLength: size }),
  ),
);

function graphOf(dependencies: readonly number[][]) {
  const dependents = dependencies.map((): number[] => []);
  dependencies.forEach((deps, index) => deps.forEach((dep) => dependents[dep]?.push(index)));
  return { dependents, dependencyCounts: dependencies.map((deps) => deps.length) };
}

/** A node that finishes after a random-ish delay, recording when it ran. */
function runner(log: { started: number[]; finished: number[]; active: number; peak: number }) {
  return (index: number, failed: number | undefined): StartWork<{ ok: boolean; ran: boolean }> =>
    (done) => {
      if (failed !== undefined) {
        const handle = setImmediate(() => done({ ok: false, ran: false }));
        return () => clearImmediate(handle);
      }
      log.started.push(index);
      log.active++;
      log.peak = Math.max(log.peak, log.active);
      const handle = setTimeout(() => {
        log.active--;
        log.finished.push(index);
        done({ ok: true, ran: true });
      }, index % 3);
      return () => clearTimeout(handle);
    };
}

describe('scheduleGraph', () => {
  it('with concurrency 1 and each place given, starts every node once the one before it finished, failed or not', async () => {
    await fc.assert(
      fc.asyncProperty(dag, async ([dependencies, , fails]) => {
        const order: string[] = [];
        const start =
          (index: number, failed: number | undefined): StartWork<boolean> =>
          (done) => {
            order.push(`start ${index}`);
            const handle = setImmediate(() => {
              order.push(`end ${index}`);
              done(failed === undefined && !fails[index]);
            });
            return () => clearImmediate(handle);
          };
        await lastValueFrom(
          scheduled(
            graphOf(dependencies),
            start,
            (ok) => ok,
            1,
            Infinity,
            (node) => node,
          ),
        );
        expect(order).toEqual(dependencies.flatMap((_, i) => [`start ${i}`, `end ${i}`]));
      }),
    );
  });

  it('runs every node of a random DAG exactly once, after all its dependencies, within concurrency', async () => {
    await fc.assert(
      fc.asyncProperty(dag, async ([dependencies, concurrency]) => {
        const log = { started: [] as number[], finished: [] as number[], active: 0, peak: 0 };
        const completions = await lastValueFrom(
          scheduled(graphOf(dependencies), runner(log), (r) => r.ok, concurrency).pipe(toArray()),
        );
        expect(completions.map((c) => c.index).sort((a, b) => a - b)).toEqual(
          dependencies.map((_, i) => i),
        );
        expect(new Set(log.started).size).toBe(log.started.length);
        dependencies.forEach((deps, index) => {
          for (const dep of deps) {
            expect(log.finished.indexOf(dep)).toBeLessThan(log.started.indexOf(index));
            expect(log.finished.indexOf(dep)).toBeGreaterThanOrEqual(0);
          }
        });
        expect(log.peak).toBeLessThanOrEqual(concurrency);
      }),
      { numRuns: 60 },
    );
  });

  it('never runs a node any of whose dependencies failed, transitively', async () => {
    await fc.assert(
      fc.asyncProperty(dag, async ([dependencies, concurrency, failing]) => {
        const ran = new Set<number>();
        const completions = await lastValueFrom(
          scheduled(
            graphOf(dependencies),
            (index, failed): StartWork<boolean> =>
              (done) => {
                if (failed === undefined) ran.add(index);
                const ok = failed === undefined && failing[index] !== true;
                const handle = setImmediate(() => done(ok));
                return () => clearImmediate(handle);
              },
            (ok) => ok,
            concurrency,
          ).pipe(toArray()),
        );
        const result = new Map(completions.map((c) => [c.index, c.result]));
        const shouldRun = (index: number): boolean =>
          (dependencies[index] ?? []).every((dep) => shouldRun(dep) && failing[dep] !== true);
        dependencies.forEach((_, index) => {
          expect(ran.has(index)).toBe(shouldRun(index));
          expect(result.get(index)).toBe(shouldRun(index) && failing[index] !== true);
        });
      }),
      { numRuns: 60 },
    );
  });

  it('starts a dependent as soon as its own dependency finished, not in waves', async () => {
    const log: string[] = [];
    const durations = [5, 60, 5];
    // 0 -> 2 (fast chain) runs beside 1 (slow): 2 must start before 1 ends.
    await lastValueFrom(
      scheduled(
        graphOf([[], [], [0]]),
        (index): StartWork<boolean> =>
          (done) => {
            log.push(`start ${index}`);
            const handle = setTimeout(() => {
              log.push(`end ${index}`);
              done(true);
            }, durations[index]);
            return () => clearTimeout(handle);
          },
        () => true,
        3,
      ).pipe(toArray()),
    );
    expect(log.indexOf('start 2')).toBeLessThan(log.indexOf('end 1'));
  });

  it('starts nothing more once unsubscribed', async () => {
    const started: number[] = [];
    const subscription = scheduled(
      graphOf([[], [0], [1]]),
      (index): StartWork<boolean> =>
        (done) => {
          started.push(index);
          const handle = setTimeout(() => done(true), 20);
          return () => clearTimeout(handle);
        },
      () => true,
      1,
    ).subscribe();
    await new Promise((resolve) => setTimeout(resolve, 5));
    subscription.unsubscribe();
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(started).toEqual([0]);
  });

  it('abandons the nodes running when unsubscribed, and takes no answer from them after', async () => {
    const abandoned: number[] = [];
    const answers: (() => void)[] = [];
    const seen: number[] = [];
    const subscription = scheduled(
      graphOf([[], [], [0]]),
      (index): StartWork<boolean> =>
        (done) => {
          answers.push(() => done(true));
          return () => abandoned.push(index);
        },
      () => true,
      2,
    ).subscribe(({ index }) => seen.push(index));
    await new Promise<void>((resolve) => setImmediate(resolve));
    subscription.unsubscribe();
    for (const answer of answers) answer();
    expect(abandoned.sort()).toEqual([0, 1]);
    expect(seen).toEqual([]);
  });

  it('takes nodes that answer synchronously: a chain of 20,000 neither recurses nor starves timers', async () => {
    const length = 20_000;
    const dependencies = Array.from({ length }, (_, i) => (i === 0 ? [] : [i - 1]));
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 0);
    try {
      const completions = await lastValueFrom(
        scheduled(
          graphOf(dependencies),
          () => doneAtOnce(true),
          (ok) => ok,
          1,
        ).pipe(toArray()),
      );
      expect(completions.map((c) => c.index)).toEqual(dependencies.map((_, i) => i));
      expect(ticks).toBeGreaterThan(0);
    } finally {
      clearInterval(ticker);
    }
  });

  it('starts the nodes ready together in one turn, after the subscriber returns', async () => {
    const started: number[] = [];
    const completions = scheduled(
      graphOf([[], [], [], [0, 1, 2]]),
      (index) => {
        started.push(index);
        return doneAtOnce(true);
      },
      () => true,
      10,
    );
    const done = lastValueFrom(completions.pipe(toArray()));
    expect(started).toEqual([]);
    // One immediate starts all three ready nodes; their dependent starts on the next turn.
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(started).toEqual([0, 1, 2]);
    await done;
    expect(started).toEqual([0, 1, 2, 3]);
  });

  it('abandons every running node, once, when unsubscribed; none after it ended', async () => {
    const nodes = [pending<number>(), pending<number>(), pending<number>()];
    const graph = { dependents: [[], [], []], dependencyCounts: [0, 0, 0] };
    const subscription = scheduled(
      graph,
      (index) => (nodes[index] as ReturnType<typeof pending<number>>).work,
      () => true,
      10,
    ).subscribe();
    await nextTurn();
    await nextTurn();
    nodes[0]?.finish(0);
    subscription.unsubscribe();
    expect(nodes.map((node) => node.abandoned())).toEqual([false, true, true]);
  });

  it('a node calling done twice is counted once', async () => {
    const graph = { dependents: [[1], []], dependencyCounts: [0, 1] };
    const outcomes = await lastValueFrom(
      scheduled(
        graph,
        (index): StartWork<number> =>
          (done) => {
            done(index);
            done(index);
            return () => undefined;
          },
        () => true,
        10,
      ).pipe(toArray()),
    );
    expect(outcomes.map((outcome) => outcome.index)).toEqual([0, 1]);
  });
});
