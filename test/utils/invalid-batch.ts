import { InvalidBatchException } from '../../lib/batch.exceptions.js';

/** The problems an InvalidBatchException names; any other outcome fails the test. */
export function problemsOf(run: () => unknown): readonly string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof InvalidBatchException) return error.problems;
    throw error;
  }
  throw new Error('expected an InvalidBatchException');
}
