import type { ExecutionContext } from '@nestjs/common';

const BATCH_ENDPOINT = Symbol('nestjs-batch.endpoint');

/** Marks the batch controller class, so app-wide guards can tell the batch request apart. */
export function markBatchEndpoint(controller: object): void {
  Reflect.defineMetadata(BATCH_ENDPOINT, true, controller);
}

/**
 * True when the context is the batch request itself (not one of its operations). Use it to keep
 * app-wide guards from counting the envelope as well as its operations, e.g. `@nestjs/throttler`'s
 * `skipIf: isBatchEndpoint`.
 * @publicApi
 */
export function isBatchEndpoint(context: ExecutionContext): boolean {
  return Reflect.getMetadata(BATCH_ENDPOINT, context.getClass()) === true;
}
