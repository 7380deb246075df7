import { STATUS_CODES } from 'node:http';
import type {
  BatchEntry,
  BatchOperation,
  BatchResult,
} from '../interfaces/batch-operation.interface.js';

/** True for a 2xx code: what a dependency must answer for its dependents to run. */
export function isSuccess(code: number): boolean {
  return code >= 200 && code < 300;
}

/**
 * The entry of an operation the library answered for (not run, timed out, failed to dispatch),
 * shaped like Nest's own error responses so clients handle both alike.
 */
export function failureResult(
  operation: BatchOperation,
  url: string,
  code: number,
  message: string,
  extra: Record<string, unknown> = {},
): BatchResult {
  return {
    method: operation.method,
    url,
    code,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: { statusCode: code, error: STATUS_CODES[code] ?? 'Error', message, ...extra },
  };
}

/** The reply entry for a finished operation: `null` when it asked to be omitted on success. */
export function toEntry(operation: BatchOperation, result: BatchResult): BatchEntry {
  return operation.omitResponseOnSuccess === true && isSuccess(result.code) ? null : result;
}
