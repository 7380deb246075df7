import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage } from 'node:http';
import type { BatchEntryFailureReason } from '../batch.exceptions.js';
import { nodeMessageOf } from '../platform/node-message.reader.js';

/**
 * What a sub-request knows about the batch it belongs to.
 * @publicApi
 */
export interface BatchOperationInfo {
  /** Position of the operation in its batch. */
  readonly index: number;
  /** The operation's name, when it has one. */
  readonly name?: string;
}

/** An own property no client can set: it never travels on the wire. */
const MARK = Symbol('nestjs-batch.operation');
const storage = new AsyncLocalStorage<BatchOperationInfo>();

type Marked = IncomingMessage & { [MARK]?: BatchOperationInfo };

/** Marks a sub-request; Express re-points prototypes, so the mark must be an own property. */
export function markSubRequest(request: IncomingMessage, info: BatchOperationInfo): void {
  (request as Marked)[MARK] = info;
}

/** Runs `fn` with `info` as the current batch operation for code without the request at hand. */
export function runAsSubRequest<T>(info: BatchOperationInfo, fn: () => T): T {
  return storage.run(info, fn);
}

/**
 * The batch operation a request is, or `undefined` for a request that arrived on its own.
 * Without an argument, the batch operation the current async context belongs to: that needs
 * the `operationContext` option, and is `undefined` without it.
 * Accepts Express and Fastify requests.
 * @publicApi
 */
export function getBatchOperation(request?: object): BatchOperationInfo | undefined {
  if (request === undefined) return storage.getStore();
  return (nodeMessageOf(request) as Marked)[MARK];
}

/**
 * True when the request is an operation of a batch rather than a request of its own.
 * @publicApi
 */
export function isBatchOperation(request: object): boolean {
  return getBatchOperation(request) !== undefined;
}

/**
 * The library's refusals made inside the app's pipeline (its guard's 403s): the answer comes back
 * as the app's, and this tells the runner, and so the event listeners, whose it was.
 */
const refusals = new WeakMap<BatchOperationInfo, BatchEntryFailureReason>();

/** Notes that the library itself is refusing the operation `request` is. */
export function noteLibraryRefusal(request: object, reason: BatchEntryFailureReason): void {
  const info = getBatchOperation(request);
  if (info !== undefined) refusals.set(info, reason);
}

/** The reason the library refused the operation inside the app, if it did. */
export function libraryRefusalOf(info: BatchOperationInfo): BatchEntryFailureReason | undefined {
  return refusals.get(info);
}
