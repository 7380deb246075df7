import { Reflector } from '@nestjs/core';

/**
 * Marks a provider as a batch listener (a `BatchEventListener`): the BatchModule finds every
 * such provider at bootstrap, in any module, and calls it as batches run. A request-scoped
 * provider is not called (it has no instance outside a request).
 * @publicApi
 */
export const BatchListener = Reflector.createDecorator<undefined, true>({ transform: () => true });
