import type { Observable } from 'rxjs';
import type {
  BatchEntry,
  BatchOperation,
  BatchOutcome,
} from '../interfaces/batch-operation.interface.js';
import { toEntry } from './operation.results.js';

/**
 * Collects a run's outcomes into one entry per operation, in request order (`null` for one
 * unfinished at the end, or omitted on success). Subscribes at once, so an error the run raises
 * while subscribing (a batch that breaks a rule or cannot be planned) is thrown here, to the
 * caller, before anything runs: the batch handler can still refuse the batch with its own status
 * through the app's exception filters, and then answer the rest on its own.
 */
export function collectEntries(
  operations: readonly BatchOperation[],
  outcomes: Observable<BatchOutcome>,
  /** Told each outcome as it is collected (the reply's cookies), without a layer of its own. */
  observe?: (outcome: BatchOutcome) => void,
): Promise<BatchEntry[]> {
  const entries = operations.map((): BatchEntry => null);
  let refused: { error: unknown } | undefined;
  let subscribing = true;
  const collected = new Promise<BatchEntry[]>((resolve, reject) => {
    outcomes.subscribe({
      next: (outcome) => {
        observe?.(outcome);
        const { index, result } = outcome;
        const operation = operations[index];
        if (operation) entries[index] = toEntry(operation, result);
      },
      error: (error: unknown) => {
        if (subscribing) refused = { error };
        else reject(error instanceof Error ? error : new Error(String(error)));
      },
      complete: () => resolve(entries),
    });
  });
  subscribing = false;
  if (refused) throw refused.error;
  return collected;
}
