/** Token of the batch endpoint's own path (the `path` extra), for the body reader. */
export const BATCH_PATH = Symbol('nestjs-batch:path');

/** Token of the BatchModule class itself, whose RouterModule path the body reader must know. */
export const BATCH_MODULE = Symbol('nestjs-batch:module');

/**
 * Token of the provider that describes the endpoint for @nestjs/swagger while the app is
 * created (its value: whether it did).
 */
export const BATCH_OPENAPI = Symbol('nestjs-batch:openapi');
