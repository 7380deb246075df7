/**
 * The server sent no result for this call's operation: it had not finished when the batch timed
 * out (`reason: 'timeout'`), or it succeeded with `omitResponseOnSuccess` (`reason: 'omitted'`).
 * @publicApi
 */
export class BatchEntryMissingError extends Error {
  override readonly name = 'BatchEntryMissingError';

  constructor(
    /** Position of the operation in its batch. */
    readonly index: number,
    readonly reason: 'timeout' | 'omitted',
  ) {
    super(
      reason === 'omitted'
        ? `operation ${index} succeeded; its response was omitted (omitResponseOnSuccess)`
        : `operation ${index} had not finished when the batch timed out`,
    );
  }
}

/**
 * The server refused the batch as a whole (an invalid operation, too many operations, a
 * dependency cycle, a guard on the batch route): nothing of it ran. `message` is the server's.
 * @publicApi
 */
export class BatchRejectedError extends Error {
  override readonly name = 'BatchRejectedError';

  constructor(
    /** HTTP status of the batch reply. */
    readonly status: number,
    message: string,
    /** The reply body, parsed when it was JSON. */
    readonly body: unknown,
  ) {
    super(message);
  }
}
