import type { IncomingMessage } from 'node:http';
import type { BatchFormat } from '../batch.constants.js';
import type { BatchEntryFailureReason } from '../batch.exceptions.js';
import type { BatchMethod } from './batch-operation.interface.js';

/**
 * A batch that starts running: it passed validation and planning.
 * @publicApi
 */
export interface BatchStartEvent {
  /** Tells this batch's events from other batches' (a counter, per process). */
  readonly batchId: number;
  /** The wire format it came in; undefined for a batch run from code (`BatchExecutor`). */
  readonly format: BatchFormat | undefined;
  /** How many operations it has. */
  readonly operationCount: number;
  /** The batch request, for an audit log (who asked); undefined for a batch run from code. */
  readonly request: IncomingMessage | undefined;
}

/**
 * How a batch ended: every operation finished (`completed`), the batch `timeout` passed
 * (`timed-out`), the client went away or the caller stopped it (`aborted`), or the run failed.
 * @publicApi
 */
export type BatchEnd = 'completed' | 'timed-out' | 'aborted' | 'failed';

/**
 * A batch that ended, however it ended.
 * @publicApi
 */
export interface BatchFinishEvent extends BatchStartEvent {
  readonly end: BatchEnd;
  /** Milliseconds from its start. */
  readonly durationMs: number;
  /** Operations that answered (the app's answer or the library's), of `operationCount`. */
  readonly finished: number;
  /** Operations the library answered for instead of the app (with a `reason`), timeouts aside. */
  readonly refused: number;
  /** Operations past `operationTimeout`, plus those unfinished at the batch `timeout`. */
  readonly timedOut: number;
  /** Operations without an answer when the batch ended (`null` entries). */
  readonly unfinished: number;
}

/**
 * One operation that answered.
 * @publicApi
 */
export interface BatchOperationFinishEvent {
  readonly batchId: number;
  /** Position in its batch. */
  readonly index: number;
  /** Its name, when it has one. */
  readonly name: string | undefined;
  readonly method: BatchMethod;
  /** The url it ran with, references substituted. */
  readonly url: string;
  /** The status of its entry. */
  readonly status: number;
  /** Milliseconds from its start (when it took its slot) to its answer. */
  readonly durationMs: number;
  /** Why the library answered instead of the app; undefined when the app answered. */
  readonly reason: BatchEntryFailureReason | undefined;
  /**
   * What the entry does not tell the page that sent the batch, for the server's eyes: for a
   * `cors` refusal, why CORS refused the operation (which header failed the check, or what the
   * preflight answered), as a browser shows it in its developer tools and never to the page's
   * script. Undefined for every other entry.
   */
  readonly detail: string | undefined;
}

/**
 * A provider that observes batches: mark its class `@BatchListener()` and register it in any
 * module. Every method is optional. Listeners run in the batch's course, synchronously: keep them
 * quick and hand slow work (I/O) off without awaiting it. A listener that throws or rejects is
 * logged and breaks nothing.
 * @publicApi
 */
export interface BatchEventListener {
  onBatchStart?(event: BatchStartEvent): unknown;
  onOperationFinish?(event: BatchOperationFinishEvent): unknown;
  onBatchFinish?(event: BatchFinishEvent): unknown;
}
