import { config, Observable, Subject } from 'rxjs';
import { controlledRun } from '../../test/utils/run-probes.js';
import type {
  BatchOperation,
  BatchOutcome,
  BatchResult,
} from '../interfaces/batch-operation.interface.js';
import { streamOf } from '../dispatch/operation.task.js';
import { collectEntries } from './entries.collector.js';

const operations: BatchOperation[] = [
  { method: 'GET', url: '/a', headers: {} },
  { method: 'GET', url: '/b', headers: {} },
];
const resultOf = (code: number): BatchResult => ({ method: 'GET', url: '/a', code, headers: {} });

/** Whatever RxJS would report as unhandled (by default rethrown on a timer: an uncaught throw). */
function unhandledErrors(): { seen: unknown[]; restore: () => void } {
  const seen: unknown[] = [];
  const previous = config.onUnhandledError;
  config.onUnhandledError = (error) => seen.push(error);
  return { seen, restore: () => (config.onUnhandledError = previous) };
}

describe('collectEntries', () => {
  it('collects entries in request order and tells observe of each outcome first', async () => {
    const run = new Subject<BatchOutcome>();
    const observed: number[] = [];
    const collected = collectEntries(operations, streamOf(run), ({ index }) =>
      observed.push(index),
    );
    run.next({ index: 1, result: resultOf(201) });
    run.next({ index: 0, result: resultOf(404) });
    run.complete();
    const entries = await collected;
    expect(observed).toEqual([1, 0]);
    expect(entries.map((entry) => entry?.code)).toEqual([404, 201]);
  });

  it('rejects with what the run failed with, as it came (not an Error made of it)', async () => {
    const run = new Subject<BatchOutcome>();
    const collected = collectEntries(operations, streamOf(run));
    const reason = { code: 'E_OVERLOADED' };
    run.error(reason);
    await expect(collected).rejects.toBe(reason);
  });

  it('fails the batch and stops the run when observe throws, reporting nothing unhandled', async () => {
    const unhandled = unhandledErrors();
    try {
      const { outcomes, push: run, subscribed } = controlledRun<BatchOutcome>();
      const broken = new Error('a cookie that cannot be taken');
      const collected = collectEntries(operations, streamOf(outcomes), () => {
        throw broken;
      });
      run.next({ index: 0, result: resultOf(200) });
      await expect(collected).rejects.toBe(broken);
      expect(subscribed()).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect(unhandled.seen).toEqual([]);
    } finally {
      unhandled.restore();
    }
  });

  it('throws to the caller what observe throws while the run is still subscribing, and stops it', () => {
    const unhandled = unhandledErrors();
    try {
      const log: string[] = [];
      const outcomes = new Observable<BatchOutcome>((subscriber) => {
        for (let index = 0; index < 2 && !subscriber.closed; index++) {
          log.push(`emit ${index}`);
          subscriber.next({ index, result: resultOf(200) });
        }
        return () => log.push('run unsubscribed');
      });
      const broken = new Error('thrown at once');
      expect(() =>
        collectEntries(operations, streamOf(outcomes), () => {
          throw broken;
        }),
      ).toThrow(broken);
      expect(log).toEqual(['emit 0', 'emit 1', 'run unsubscribed']);
      expect(unhandled.seen).toEqual([]);
    } finally {
      unhandled.restore();
    }
  });
});
