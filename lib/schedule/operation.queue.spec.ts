import { setImmediate as nextTurn } from 'node:timers/promises';
import { doneAtOnce, type StartWork } from '../dispatch/operation.task.js';
import { pending } from '../../test/utils/pending-work.js';
import { OperationQueue, type HeldWork } from './operation.queue.js';

const ignoreCall = (): void => undefined;

const queueOf = (globalConcurrency: number): OperationQueue =>
  OperationQueue.withLimit(globalConcurrency);

describe('OperationQueue', () => {
  it('grants freed slots to the waiting lanes in turn, each lane in its own order', async () => {
    const queue = queueOf(1);
    const started: string[] = [];
    const ends = new Map<string, () => void>();
    const submit = (lane: ReturnType<OperationQueue['lane']>, tag: string) =>
      lane.run<string>((done) => {
        started.push(tag);
        ends.set(tag, () => done(tag));
        return () => undefined;
      })(
        () => undefined,
        () => undefined,
      );
    const [a, b, c] = [queue.lane(), queue.lane(), queue.lane()];
    for (const tag of ['a1', 'a2', 'a3']) submit(a, tag);
    submit(b, 'b1');
    submit(c, 'c1');
    submit(c, 'c2');
    expect(queue.waiting).toBe(5);
    while (queue.waiting > 0 || ends.size < 6) {
      const running = started[started.length - 1] as string;
      ends.get(running)?.();
      await nextTurn();
    }
    expect(started).toEqual(['a1', 'a2', 'b1', 'c1', 'a3', 'c2']);
  });

  it('gives a place up when unsubscribed while waiting, and a slot when unsubscribed while running', async () => {
    const queue = queueOf(1);
    const lane = queue.lane();
    const started: string[] = [];
    const hold =
      (tag: string): StartWork<never> =>
      () => {
        started.push(tag);
        return () => undefined;
      };
    const ignore = (): void => undefined;
    const first = lane.run(hold('first'))(ignore, ignore);
    const second = lane.run(hold('second'))(ignore, ignore);
    lane.run(hold('third'))(ignore, ignore);
    second();
    first();
    await nextTurn();
    expect(started).toEqual(['first', 'third']);
    expect(queue.waiting).toBe(0);
  });

  it('runs thousands of operations that complete at once without recursing', async () => {
    const queue = queueOf(2);
    const lane = queue.lane();
    let done = 0;
    for (let i = 0; i < 5_000; i++) {
      lane.run(doneAtOnce(i))(
        () => done++,
        () => undefined,
      );
    }
    while (done < 5_000) await nextTurn();
    expect(queue.waiting).toBe(0);
  });

  it('passes everything straight through when the cap is 0', () => {
    const queue = queueOf(0);
    let started = 0;
    for (let i = 0; i < 100; i++) {
      queue.lane().run<never>(() => {
        started++;
        return () => undefined;
      })(
        () => undefined,
        () => undefined,
      );
    }
    expect(started).toBe(100);
    expect(queue.waiting).toBe(0);
  });

  it('abandoning work after it is done frees no second slot', async () => {
    const queue = queueOf(1);
    const lane = queue.lane();
    const abandonFirst = lane.run(doneAtOnce('a'))(ignoreCall, ignoreCall);
    abandonFirst();
    abandonFirst();
    const b = pending<string>();
    const c = pending<string>();
    lane.run(b.work)(ignoreCall, ignoreCall);
    lane.run(c.work)(ignoreCall, ignoreCall);
    await nextTurn();
    expect(b.started()).toBe(true);
    expect(c.started()).toBe(false);
    expect(queue.waiting).toBe(1);
  });

  it('a slot granted and abandoned before its turn never starts, and frees the slot', async () => {
    const queue = queueOf(1);
    const lane = queue.lane();
    const a = pending<string>();
    const b = pending<string>();
    lane.run(a.work)(ignoreCall, ignoreCall);
    const abandonB = lane.run(b.work)(ignoreCall, ignoreCall);
    a.finish('a');
    abandonB();
    await nextTurn();
    expect(b.started()).toBe(false);
    const c = pending<string>();
    lane.run(c.work)(ignoreCall, ignoreCall);
    expect(c.started()).toBe(true);
  });

  it('work whose start throws fails once and frees its slot', () => {
    const queue = queueOf(1);
    const lane = queue.lane();
    const failures: unknown[] = [];
    lane.run<string>(() => {
      throw new Error('x');
    })(ignoreCall, (error) => failures.push(error));
    expect(failures).toHaveLength(1);
    const b = pending<string>();
    lane.run(b.work)(ignoreCall, ignoreCall);
    expect(b.started()).toBe(true);
  });

  it('held work abandoned while running keeps its slots, in nested queues, until it lets go', async () => {
    const batch = queueOf(1).lane();
    const appQueue = queueOf(1);
    const app = appQueue.lane();
    let letGo: (() => void) | undefined;
    let abandoned = false;
    const group: HeldWork<never> = (_done, _fail, released) => {
      letGo = released;
      return () => {
        abandoned = true;
      };
    };
    const abandon = batch.hold(app.hold(group))(ignoreCall, ignoreCall);
    abandon();
    expect(abandoned).toBe(true);
    // Another batch's group: it must wait while the first still rolls back.
    const next = pending<string>();
    appQueue.lane().run(next.work)(ignoreCall, ignoreCall);
    await nextTurn();
    expect(next.started()).toBe(false);
    expect(appQueue.waiting).toBe(1);
    letGo?.();
    letGo?.();
    await nextTurn();
    expect(next.started()).toBe(true);
    expect(appQueue.waiting).toBe(0);
    // The first batch's own slot went too.
    const mine = pending<string>();
    batch.run(mine.work)(ignoreCall, ignoreCall);
    expect(mine.started()).toBe(true);
  });

  it('held work abandoned while it waits lets go at once, and its outer slot with it', () => {
    const batch = queueOf(1).lane();
    const appQueue = queueOf(1);
    const blocker = pending<string>();
    appQueue.lane().run(blocker.work)(ignoreCall, ignoreCall);
    const never: HeldWork<never> = () => {
      throw new Error('never started');
    };
    const abandon = batch.hold(appQueue.lane().hold(never))(ignoreCall, ignoreCall);
    expect(appQueue.waiting).toBe(1);
    abandon();
    expect(appQueue.waiting).toBe(0);
    const mine = pending<string>();
    batch.run(mine.work)(ignoreCall, ignoreCall);
    expect(mine.started()).toBe(true);
  });
});
