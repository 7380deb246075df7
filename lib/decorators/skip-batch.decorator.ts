import { Reflector } from '@nestjs/core';

/**
 * Keeps a controller or a handler out of batches: an operation routed there is answered 403 and
 * the handler never runs. Requests that arrive on their own are unaffected. `@SkipBatch(false)` on
 * a handler lets it back in under a class marked `@SkipBatch()`.
 *
 * The check is a guard, so the route's middleware still runs; to stop an operation before any of
 * the app runs, list the route in the `exclude` option.
 * @publicApi
 */
export const SkipBatch = Reflector.createDecorator<boolean | undefined, boolean>({
  transform: (skip) => skip !== false,
});
