import type {
  BatchEntry,
  BatchOperation,
  BatchResult,
} from '../interfaces/batch-operation.interface.js';

/** True for a 2xx code: what a dependency must answer for its dependents to run. */
export function isSuccess(code: number): boolean {
  return code >= 200 && code < 300;
}

/** The reply entry for a finished operation: `null` when it asked to be omitted on success. */
export function toEntry(operation: BatchOperation, result: BatchResult): BatchEntry {
  return operation.omitResponseOnSuccess === true && isSuccess(result.code) ? null : result;
}
