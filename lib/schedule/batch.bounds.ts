import { Observable } from 'rxjs';
import type { BatchOutcome, BatchResult } from '../interfaces/batch-operation.interface.js';

/** What holds a batch's run to its end: its deadline, its abort signal, and where results go. */
export interface BatchBounds {
  /** Milliseconds the batch may run; 0 for no deadline. */
  readonly timeout: number;
  readonly signal?: AbortSignal;
  /** Told each outcome before it is passed on. */
  readonly record: (index: number, result: BatchResult) => void;
}

/**
 * A run's outcomes, each recorded and passed on, until the run completes, the deadline passes or
 * the signal aborts. Ending early unsubscribes from the run: operations not yet started never
 * start, running ones are abandoned. An already aborted signal starts nothing.
 *
 * One subscriber with a timer and a listener, where `tap` and two `takeUntil`s made three
 * subscribers per outcome and two more Observables per batch (in CPU profiles).
 */
export function withinBounds(
  outcomes: Observable<BatchOutcome>,
  { timeout, signal, record }: BatchBounds,
): Observable<BatchOutcome> {
  return new Observable<BatchOutcome>((subscriber) => {
    if (signal?.aborted) {
      subscriber.complete();
      return undefined;
    }
    const end = (): void => subscriber.complete();
    const deadline = timeout > 0 ? setTimeout(end, timeout) : undefined;
    signal?.addEventListener('abort', end, { once: true });
    // Added before the run is subscribed, so a run that ends while being subscribed leaves
    // neither behind.
    subscriber.add(() => {
      clearTimeout(deadline);
      signal?.removeEventListener('abort', end);
    });
    return outcomes.subscribe({
      next: (outcome) => {
        // A run still inside its own subscribe is tied to this subscriber only once that
        // returns: what it emits after the bounds ended (an abort from a `next`) is dropped.
        if (subscriber.closed) return;
        record(outcome.index, outcome.result);
        subscriber.next(outcome);
      },
      error: (error: unknown) => subscriber.error(error),
      complete: end,
    });
  });
}
