import type { Observable, Subscription } from 'rxjs';
import type {
  BatchEntry,
  BatchOperation,
  BatchOutcome,
} from '../interfaces/batch-operation.interface.js';
import { toEntry } from '../operation/operation.results.js';

/**
 * Collects a run's outcomes into one entry per operation, in request order (`null` for one
 * unfinished at the end, or omitted on success). Subscribes at once, so an error the run raises
 * while subscribing (a batch not planned ahead that cannot be planned) is thrown here, before
 * anything runs, as `planBatchRun` would have thrown it, rather than rejected. `observe` is told
 * each outcome as it is collected (the reply's cookies), without a layer of its own; what it
 * throws fails the batch.
 */
export function collectEntries(
  operations: readonly BatchOperation[],
  outcomes: Observable<BatchOutcome>,
  observe?: (outcome: BatchOutcome) => void,
): Promise<BatchEntry[]> {
  const entries = operations.map((): BatchEntry => null);
  let refused: { error: unknown } | undefined;
  let subscribing = true;
  let failed = false;
  const collected = new Promise<BatchEntry[]>((resolve, reject) => {
    const fail = (error: unknown): void => {
      failed = true;
      if (subscribing) refused = { error };
      // As it came: what the run failed with is the caller's to tell apart
      // (`BatchExecutor.execute()` rejects with what `run()` errors with).
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      else reject(error);
    };
    // Not yet assigned while the run emits during its own subscribe: unsubscribed below then.
    let subscription: Subscription | undefined = undefined;
    subscription = outcomes.subscribe({
      next: (outcome) => {
        if (failed) return;
        try {
          observe?.(outcome);
          const { index, result } = outcome;
          const operation = operations[index];
          if (operation) entries[index] = toEntry(operation, result);
        } catch (error) {
          // Thrown out of `next`, it would be RxJS's unhandled error (rethrown on a timer, an
          // uncaught exception): the batch fails instead, and stops.
          fail(error);
          subscription?.unsubscribe();
        }
      },
      error: fail,
      complete: () => resolve(entries),
    });
    if (failed) subscription.unsubscribe();
  });
  subscribing = false;
  if (refused) throw refused.error;
  return collected;
}
