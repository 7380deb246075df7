import type { ExecutionContext } from '@nestjs/common';

const BATCH_ENDPOINT = Symbol('nestjs-batch.endpoint');

/** Marks the batch controller class, so app-wide guards can tell the batch request apart. */
export function markBatchEndpoint(controller: object): void {
  Reflect.defineMetadata(BATCH_ENDPOINT, true, controller);
}

/**
 * True when the context is the batch request itself (not one of its operations). Use it to exempt
 * the envelope from app-wide guards that already see each operation, e.g. `@nestjs/throttler`'s
 * `skipIf: isBatchEndpoint`: every operation is still counted against its own route.
 * @publicApi
 */
export function isBatchEndpoint(context: ExecutionContext): boolean {
  return Reflect.getMetadata(BATCH_ENDPOINT, context.getClass()) === true;
}
