import { jest } from '@jest/globals';
import { getEventListeners } from 'node:events';
import { Observable } from 'rxjs';
import { activeTimeouts, controlledRun } from '../../test/utils/run-probes.js';
import type { BatchOutcome, BatchResult } from '../interfaces/batch-operation.interface.js';
import { observableOf, streamOf } from '../dispatch/operation.task.js';
import { withinBounds, type BatchBounds } from './batch.bounds.js';

/** The bounds over an Observable run, as an Observable, to read with rxjs. */
const bounded = (outcomes: Observable<BatchOutcome>, bounds: BatchBounds) =>
  observableOf(withinBounds(streamOf(outcomes), bounds));

const resultOf = (code: number): BatchResult => ({ method: 'GET', url: '/x', code, headers: {} });

describe('withinBounds', () => {
  it('records each outcome before passing it on, and completes with the run', () => {
    const { outcomes, push, subscribed } = controlledRun<BatchOutcome>();
    const log: string[] = [];
    let completed = false;
    bounded(outcomes, {
      timeout: 0,
      record: (index, result) => log.push(`record ${index} ${result.code}`),
    }).subscribe({
      next: ({ index }) => log.push(`next ${index}`),
      complete: () => (completed = true),
    });
    push.next({ index: 1, result: resultOf(201) });
    push.next({ index: 0, result: resultOf(404) });
    push.complete();
    expect(log).toEqual(['record 1 201', 'next 1', 'record 0 404', 'next 0']);
    expect(completed).toBe(true);
    expect(subscribed()).toBe(0);
  });

  it('ends the run at the deadline: completes, unsubscribes, and drops what comes after', async () => {
    const { outcomes, push, subscribed } = controlledRun<BatchOutcome>();
    const seen: number[] = [];
    const ended = new Promise<void>((resolve) =>
      bounded(outcomes, { timeout: 20, record: () => undefined }).subscribe({
        next: ({ index }) => seen.push(index),
        complete: resolve,
      }),
    );
    push.next({ index: 0, result: resultOf(200) });
    await ended;
    expect(subscribed()).toBe(0);
    push.next({ index: 1, result: resultOf(200) });
    expect(seen).toEqual([0]);
  });

  it('ends the run when the signal aborts, and removes its listener', () => {
    const { outcomes, subscribed } = controlledRun<BatchOutcome>();
    const gone = new AbortController();
    const removed = jest.spyOn(gone.signal, 'removeEventListener');
    let completed = false;
    bounded(outcomes, {
      timeout: 60_000,
      signal: gone.signal,
      record: () => undefined,
    }).subscribe({ complete: () => (completed = true) });
    expect(subscribed()).toBe(1);
    gone.abort();
    expect(completed).toBe(true);
    expect(subscribed()).toBe(0);
    expect(removed).toHaveBeenCalledWith('abort', expect.any(Function));
  });

  it('starts nothing when the signal has already aborted', () => {
    const { outcomes, subscribed } = controlledRun<BatchOutcome>();
    const gone = new AbortController();
    gone.abort();
    let completed = false;
    bounded(outcomes, { timeout: 0, signal: gone.signal, record: () => undefined }).subscribe({
      complete: () => (completed = true),
    });
    expect(completed).toBe(true);
    expect(subscribed()).toBe(0);
  });

  it('leaves no deadline timer behind once the run completes', () => {
    const { outcomes, push } = controlledRun<BatchOutcome>();
    const before = activeTimeouts();
    bounded(outcomes, { timeout: 60_000, record: () => undefined }).subscribe();
    expect(activeTimeouts()).toBe(before + 1);
    push.complete();
    expect(activeTimeouts()).toBe(before);
  });

  it('stops recording once an abort inside a next, while the run is still subscribing, ended it', () => {
    const log: string[] = [];
    const gone = new AbortController();
    // A run that answers three operations synchronously while it is being subscribed.
    const run = new Observable<BatchOutcome>((subscriber) => {
      for (let index = 0; index < 3 && !subscriber.closed; index++) {
        subscriber.next({ index, result: resultOf(200) });
      }
      return () => log.push('run unsubscribed');
    });
    bounded(run, {
      timeout: 0,
      signal: gone.signal,
      record: (index) => log.push(`record ${index}`),
    }).subscribe({
      next: ({ index }) => {
        log.push(`next ${index}`);
        gone.abort();
      },
      complete: () => log.push('complete'),
    });
    expect(log).toEqual(['record 0', 'next 0', 'complete', 'run unsubscribed']);
  });

  it('leaves no timer and no abort listener behind when the run completes while subscribing', () => {
    const gone = new AbortController();
    const before = activeTimeouts();
    let completed = false;
    bounded(new Observable<BatchOutcome>((subscriber) => subscriber.complete()), {
      timeout: 60_000,
      signal: gone.signal,
      record: () => undefined,
    }).subscribe({ complete: () => (completed = true) });
    expect(completed).toBe(true);
    expect(activeTimeouts()).toBe(before);
    expect(getEventListeners(gone.signal, 'abort')).toHaveLength(0);
  });

  it('passes the run’s error on, and unsubscribes from it', () => {
    const { outcomes, push, subscribed } = controlledRun<BatchOutcome>();
    let failed: unknown;
    bounded(outcomes, { timeout: 0, record: () => undefined }).subscribe({
      error: (error: unknown) => (failed = error),
    });
    push.error(new Error('planned to fail'));
    expect(failed).toEqual(new Error('planned to fail'));
    expect(subscribed()).toBe(0);
  });
});
