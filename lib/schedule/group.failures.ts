import { failureBody } from '../batch.exceptions.js';
import type { BatchOperation, BatchResult } from '../interfaces/batch-operation.interface.js';
import { failedFor } from '../operation/operation.failures.js';

/*
 * The entries the library writes for the operations of an atomic group that did not stand.
 * Kept apart from operation.failures.ts: these describe a group, not one operation.
 */

/**
 * 424 for a member of a rolled-back group other than the one that failed: whether it ran (its
 * effect undone) or never started, it took no effect.
 */
export const rolledBack = (
  operation: BatchOperation,
  url: string,
  label: string,
  why: {
    readonly group: string;
    readonly failed: { readonly index: number; readonly label: string; readonly code: number };
    readonly ran: boolean;
  },
): BatchResult =>
  tagged('rolled-back', {
    method: operation.method,
    url,
    code: 424,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: {
      ...failureBody(
        424,
        'rolled-back',
        `${label} ${why.ran ? 'was rolled back' : 'was not run'}: ${why.failed.label} of its atomicity group "${why.group}" answered ${why.failed.code}, so the group's transaction was rolled back`,
      ),
      atomicityGroup: why.group,
      failedOperation: why.failed.index,
    },
  });

/** 500 for every member of a group whose transaction failed to commit (the hook rejected). */
export const transactionFailed = (
  operation: BatchOperation,
  label: string,
  group: string,
  error: unknown,
): BatchResult =>
  tagged('transaction-failed', {
    method: operation.method,
    url: operation.url,
    code: 500,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: {
      ...failureBody(
        500,
        'transaction-failed',
        `${label}: the transaction of atomicity group "${group}" failed, so none of it took effect: ${String(error)}`,
      ),
      atomicityGroup: group,
    },
  });

/**
 * 504 for the member running when its group's time limit passed: the transaction was rolled back
 * then, whether or not the member's handler has ended since.
 */
export const groupTimedOut = (
  operation: BatchOperation,
  url: string,
  label: string,
  group: string,
  limit: number,
): BatchResult =>
  tagged('group-timeout', {
    method: operation.method,
    url,
    code: 504,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: {
      ...failureBody(
        504,
        'group-timeout',
        `${label} was running when atomicity group "${group}" reached its time limit (groupTimeout, ${limit} ms), so the group's transaction was rolled back`,
      ),
      atomicityGroup: group,
    },
  });

/** The result, its reason known to the runner and the event listeners. */
function tagged(
  reason: 'rolled-back' | 'transaction-failed' | 'group-timeout',
  result: BatchResult,
): BatchResult {
  failedFor(result, reason);
  return result;
}
