/** Token of the options after defaults are applied. Internal: users configure through forRoot. */
export const BATCH_OPTIONS = Symbol('nestjs-batch:options');
