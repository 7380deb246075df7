import {
  NOTHING_TO_ABANDON,
  SettleOnce,
  type Abandon,
  type StartStream,
} from '../dispatch/operation.task.js';
import type { BatchOutcome, BatchResult } from '../interfaces/batch-operation.interface.js';
import { atDeadline } from './batch.deadlines.js';

/**
 * What cuts a batch off before its end: the part of an `AbortSignal` the bounds read. The batch
 * endpoint gives one over its reply's `'close'` rather than an `AbortSignal` made per batch.
 */
export interface CutOff {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options: { once: true }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** What holds a batch's run to its end: its deadline, its abort signal, and where results go. */
export interface BatchBounds {
  /** Milliseconds the batch may run; 0 for no deadline. */
  readonly timeout: number;
  readonly signal?: CutOff;
  /** Told each outcome before it is passed on. */
  readonly record: (index: number, result: BatchResult) => void;
}

/**
 * A run's outcomes, each recorded and passed on, until the run completes, the deadline passes or
 * the signal aborts. Ending early abandons the run: operations not yet started never start,
 * running ones are abandoned. An already aborted signal starts nothing.
 *
 * Plain callbacks, a deadline only for a timeout (on a timer shared by the batches of that
 * timeout) and a listener only for a signal: an Observable here was one more Subscriber per
 * outcome and per batch, and a timer per batch a timer list per batch (in CPU profiles).
 */
export function withinBounds(
  outcomes: StartStream<BatchOutcome>,
  { timeout, signal, record }: BatchBounds,
): StartStream<BatchOutcome> {
  return (sink) => {
    if (signal?.aborted) {
      sink.complete();
      return NOTHING_TO_ABANDON;
    }
    const bounds = new SettleOnce();
    let abandon: Abandon = NOTHING_TO_ABANDON;
    let cancelDeadline: (() => void) | undefined;
    /** Ends the bounds, once: the timer and the listener go. */
    const close = (): boolean => {
      if (!bounds.end()) return false;
      cancelDeadline?.();
      signal?.removeEventListener('abort', end);
      return true;
    };
    // Cut off: the sink completes, then the run is abandoned.
    function end(): void {
      if (!close()) return;
      sink.complete();
      abandon();
    }
    if (timeout > 0) cancelDeadline = atDeadline(timeout, end);
    signal?.addEventListener('abort', end, { once: true });
    abandon = outcomes({
      next: (outcome) => {
        // What the run sends after the bounds ended (an abort from a `next`) is dropped.
        if (bounds.ended) return;
        record(outcome.index, outcome.result);
        sink.next(outcome);
      },
      error: (error: unknown) => {
        if (close()) sink.error(error);
      },
      complete: () => {
        if (close()) sink.complete();
      },
    });
    // Ended while the run was being started: abandon what it left running.
    if (bounds.ended) abandon();
    return () => {
      if (close()) abandon();
    };
  };
}
