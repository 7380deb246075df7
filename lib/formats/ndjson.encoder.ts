import { NDJSON_MEDIA_TYPE } from '../batch.constants.js';
import { Readable } from 'node:stream';
import type { Observable } from 'rxjs';
import { toEntry } from '../schedule/operation.results.js';
import { entryJson } from './entry-body.encoder.js';
import type {
  BatchEntry,
  BatchOperation,
  BatchOutcome,
} from '../interfaces/batch-operation.interface.js';

/**
 * One line of the streamed reply: `{ "index": i, ...entry }`, or `{ "index": i, "entry": null }`
 * for an operation unfinished at the timeout or omitted on success.
 * @publicApi
 */
export type NdjsonBatchLine =
  ({ index: number } & NonNullable<BatchEntry>) | { index: number; entry: null };

/**
 * How long a finished operation's line waits for the lines of operations finishing after it, so
 * that they leave in one write: a chain of quick operations is one or two packets, not one each,
 * while a line is still written long before a client or a person could tell.
 */
export const NDJSON_LINE_HOLD_MS = 2;

/** Characters of lines held at most: more leave at once. */
const HELD_LINES_MAX = 16 * 1024;

/** True when the batch request's Accept header asks for NDJSON (and does not refuse it, q=0). */
export function acceptsNdjson(accept: string | undefined): boolean {
  return (accept ?? '').split(',').some((range) => {
    const [type = '', ...parameters] = range.split(';').map((part) => part.trim().toLowerCase());
    return (
      type === NDJSON_MEDIA_TYPE && !parameters.some((parameter) => /^q=0(\.0*)?$/.test(parameter))
    );
  });
}

/**
 * Streams a batch as NDJSON, a line per operation once it finishes (within NDJSON_LINE_HOLD_MS),
 * then a `null` line for each one unfinished when the run ends (timeout or abort). While the
 * stream's reader is behind (its buffer is full), `readyToStart` holds new operations back;
 * destroying the stream stops the run. A synchronous error of the run (planning: a cycle, an
 * unknown name) is thrown here, before anything is written, so it can still be answered with its
 * own status.
 */
export function streamNdjson(
  operations: readonly BatchOperation[],
  run: (readyToStart: () => PromiseLike<void> | undefined) => Observable<BatchOutcome>,
): Readable {
  const finished = operations.map(() => false);
  let waiting: (() => void)[] = [];
  let full = false;
  const stream = new Readable({
    read() {
      full = false;
      const resume = waiting;
      waiting = [];
      for (const start of resume) start();
    },
    destroy(error, callback) {
      clearTimeout(flushing);
      subscription.unsubscribe();
      callback(error);
    },
  });
  // Lines of operations that finish close together leave together: a line waits up to
  // NDJSON_LINE_HOLD_MS for the lines after it, as Nagle's algorithm holds small segments, and
  // the run's end or a large line sends what is held at once. A write each made a packet each
  // for the reader to wake for, and that reader's turn, on a shared CPU, came out of the run's.
  let held = '';
  let flushing: ReturnType<typeof setTimeout> | undefined;
  const flush = (): void => {
    clearTimeout(flushing);
    flushing = undefined;
    if (held === '') return;
    const lines = held;
    held = '';
    if (!stream.push(lines)) full = true;
  };
  // `{ "index": i, ...entry }`, the entry's body as the app's JSON text.
  const write = (index: number, entry: BatchEntry): void => {
    held += `${entryJson(entry, `"index":${index},`, true)}\n`;
    if (held.length >= HELD_LINES_MAX) flush();
    else flushing ??= setTimeout(flush, NDJSON_LINE_HOLD_MS);
  };
  const readyToStart = (): PromiseLike<void> | undefined =>
    full ? new Promise<void>((resolve) => waiting.push(resolve)) : undefined;

  let subscribing = true;
  let planningError: { error: unknown } | undefined;
  const subscription = run(readyToStart).subscribe({
    next: ({ index, result }) => {
      const operation = operations[index];
      if (!operation) return;
      finished[index] = true;
      write(index, toEntry(operation, result));
    },
    error: (error: unknown) => {
      if (subscribing) planningError = { error };
      else stream.destroy(error instanceof Error ? error : new Error(String(error)));
    },
    complete: () => {
      finished.forEach((done, index) => {
        if (!done) write(index, null);
      });
      flush();
      stream.push(null);
    },
  });
  subscribing = false;
  if (planningError) throw planningError.error;
  return stream;
}
