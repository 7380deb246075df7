import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage } from 'node:http';

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
  const raw = 'raw' in request ? (request.raw as object) : request;
  return (raw as Marked)[MARK];
}

/**
 * True when the request is an operation of a batch rather than a request of its own.
 * @publicApi
 */
export function isBatchOperation(request: object): boolean {
  return getBatchOperation(request) !== undefined;
}
