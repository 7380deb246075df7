import { BadRequestException, PayloadTooLargeException } from '@nestjs/common';

/**
 * The batch as a whole cannot be run: a bad envelope, an invalid operation, a dependency cycle or
 * an unknown name. Nothing of it has run. Messages name the operation index and the problem.
 * @publicApi
 */
export class InvalidBatchException extends BadRequestException {
  constructor(readonly problems: readonly string[]) {
    super([...problems]);
  }
}

/**
 * The batch holds more operations than the configured `limit`. Nothing of it has run.
 * @publicApi
 */
export class BatchLimitExceededException extends PayloadTooLargeException {
  constructor(
    readonly count: number,
    readonly limit: number,
  ) {
    super(`A batch may hold at most ${limit} operations; this one has ${count}`);
  }
}
