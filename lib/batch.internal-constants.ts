/** Token of the batch endpoint's own path (the `path` extra), for the body reader. */
export const BATCH_PATH = Symbol('nestjs-batch:path');

/** Token of the BatchModule class itself, whose RouterModule path the body reader must know. */
export const BATCH_MODULE = Symbol('nestjs-batch:module');

/** Metadata key of `@BatchListener()`. */
export const BATCH_LISTENER = 'nestjs-batch:listener';
