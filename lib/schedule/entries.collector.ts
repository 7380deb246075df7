import type { Abandon, StartStream } from '../dispatch/operation.task.js';
import type {
  BatchEntry,
  BatchOperation,
  BatchOutcome,
} from '../interfaces/batch-operation.interface.js';
import { toEntry } from './operation.results.js';

/**
 * Collects a run's outcomes into one entry per operation, in request order (`null` for one
 * unfinished at the end, or omitted on success). Starts the run at once, so an error it raises
 * while starting (a batch not planned ahead that cannot be planned) is thrown here, before
 * anything runs, as `planBatchRun` would have thrown it, rather than rejected. `observe` is told
 * each outcome as it is collected (the reply's cookies), without a layer of its own; what it
 * throws fails the batch.
 */
export function collectEntries(
  operations: readonly BatchOperation[],
  outcomes: StartStream<BatchOutcome>,
  observe?: (outcome: BatchOutcome) => void,
): Promise<BatchEntry[]> {
  return collectEncoded(operations, outcomes, (_, entry) => entry, observe);
}

/**
 * {@link collectEntries}, each entry made into what `encode` gives for it as soon as its
 * operation finishes (`encode(index, null)` for one unfinished at the end): the result is let
 * go at once instead of being held until the reply is built.
 */
export function collectEncoded<T>(
  operations: readonly BatchOperation[],
  outcomes: StartStream<BatchOutcome>,
  encode: (index: number, entry: BatchEntry) => T,
  observe?: (outcome: BatchOutcome) => void,
): Promise<T[]> {
  const entries: (T | undefined)[] = operations.map(() => undefined);
  let refused: { error: unknown } | undefined;
  let subscribing = true;
  let failed = false;
  const collected = new Promise<T[]>((resolve, reject) => {
    const fail = (error: unknown): void => {
      failed = true;
      if (subscribing) refused = { error };
      // As it came: what the run failed with is the caller's to tell apart
      // (`BatchExecutor.execute()` rejects with what `run()` errors with).
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      else reject(error);
    };
    // Not yet assigned while the run sends during its own start: abandoned below then.
    let abandon: Abandon | undefined = undefined;
    try {
      abandon = outcomes({
        next: (outcome) => {
          if (failed) return;
          try {
            observe?.(outcome);
            const { index, result } = outcome;
            const operation = operations[index];
            if (operation) entries[index] = encode(index, toEntry(operation, result));
          } catch (error) {
            // Thrown out of `next`, it would reach the scheduler that answered: the batch
            // fails instead, and stops.
            fail(error);
            abandon?.();
          }
        },
        error: fail,
        complete: () => {
          if (failed) return;
          try {
            resolve(
              entries.map((entry, index) => (entry === undefined ? encode(index, null) : entry)),
            );
          } catch (error) {
            fail(error);
          }
        },
      });
    } catch (error) {
      fail(error);
    }
    if (failed) abandon?.();
  });
  subscribing = false;
  if (refused) throw refused.error;
  return collected;
}
