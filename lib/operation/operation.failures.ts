import { failureBody, type BatchEntryFailureReason } from '../batch.exceptions.js';
import type { BatchOperation, BatchResult } from '../interfaces/batch-operation.interface.js';
import { hideClearSiteData, type CookieHeaders } from './cookie.rules.js';

/** The reason of each result written here: an app's own body may carry a `reason` too. */
const reasons = new WeakMap<BatchResult, BatchEntryFailureReason>();

/** Why the library answered for the operation, or undefined when the app answered. */
export function failureReasonOf(result: BatchResult): BatchEntryFailureReason | undefined {
  return reasons.get(result);
}

/**
 * What the entry's message leaves out, for the server's eyes: why CORS refused an operation. Set
 * only on those results.
 */
const details = new WeakMap<BatchResult, string>();

/** Why the library answered for the operation, beyond what its entry says; undefined mostly. */
export function failureDetailOf(result: BatchResult): string | undefined {
  return details.get(result);
}

/** Marks a result the library wrote, or its guard made in the app, with the reason it failed. */
export function failedFor(result: BatchResult, reason: BatchEntryFailureReason): void {
  reasons.set(result, reason);
}

function failure(
  operation: BatchOperation,
  url: string,
  code: number,
  reason: BatchEntryFailureReason,
  message: string,
  extra: Record<string, unknown> = {},
): BatchResult {
  const result: BatchResult = {
    method: operation.method,
    url,
    code,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: { ...failureBody(code, reason, message), ...extra },
  };
  reasons.set(result, reason);
  return result;
}

/**
 * What a response had sent before it closed: the status and the headers a client had read
 * (those an entry keeps, less `Set-Cookie`). A client that stands in for fetch resolves with
 * them, then fails the body's read, as fetch does when the connection drops.
 */
export interface SentBeforeAbort {
  readonly code: number;
  readonly headers: Record<string, string | string[]>;
}

/**
 * The cookies and `Clear-Site-Data` of the headers an answer had sent before it failed, on its
 * failure: a browser applies them as they arrive, whatever became of the rest. The jar and the
 * reply read them here; the failure's headers are the library's, so the `Clear-Site-Data` is
 * kept apart, as one CORS hid is (`clearSiteDataOf`).
 */
function keepingCookies(result: BatchResult, cookies: CookieHeaders | undefined): BatchResult {
  if (cookies === undefined) return result;
  const { 'set-cookie': setCookie, 'clear-site-data': clearSiteData } = cookies;
  if (setCookie !== undefined) result.headers['set-cookie'] = setCookie;
  if (clearSiteData !== undefined) hideClearSiteData(result, clearSiteData);
  return result;
}

/*
 * One constructor per way an operation can end without the app's answer. `label` is how messages
 * name the operation (operationLabel).
 */

export const dependencyFailed = (
  operation: BatchOperation,
  label: string,
  dependency: { readonly index: number; readonly label: string; readonly code: number },
  group?: {
    readonly name: string;
    readonly failed: { readonly index: number; readonly label: string; readonly code: number };
  },
): BatchResult =>
  group === undefined
    ? failure(
        operation,
        operation.url,
        424,
        'dependency-failed',
        `${label} was not run: its dependency ${dependency.label} ${
          dependency.code === 424 ? 'was not run either' : `answered ${dependency.code}`
        }`,
        { failedDependency: dependency.index },
      )
    : // The dependency ran and was undone with its group: name the member whose failure did it.
      failure(
        operation,
        operation.url,
        424,
        'dependency-failed',
        `${label} was not run: its atomicity group "${group.name}" was rolled back: ${group.failed.label} answered ${group.failed.code}`,
        { failedDependency: group.failed.index, atomicityGroup: group.name },
      );

export const renderFailed = (operation: BatchOperation, label: string, why: string): BatchResult =>
  failure(operation, operation.url, 400, 'render-failed', `${label}: ${why}`);

export const excluded = (
  operation: BatchOperation,
  url: string,
  label: string,
  method: string,
): BatchResult =>
  failure(
    operation,
    url,
    403,
    'excluded',
    `${label} cannot be run in a batch: ${method} ${url} is excluded (exclude option)`,
  );

/**
 * 503: the app began to shut down before the operation, which waits for others, could start: a
 * client that sends it once they answered finds the server closing, and nothing of it runs.
 */
export const shuttingDown = (operation: BatchOperation, label: string): BatchResult =>
  failure(
    operation,
    operation.url,
    503,
    'shutting-down',
    `${label} was not run: the app began to shut down before it could start`,
  );

export const dispatchFailed = (
  operation: BatchOperation,
  url: string,
  label: string,
  error: unknown,
  beforeAnswer: boolean,
): BatchResult =>
  failure(
    operation,
    url,
    500,
    'dispatch-failed',
    `${label} failed${beforeAnswer ? ' before the app answered' : ''}: ${String(error)}`,
  );

/**
 * 504: past `operationTimeout`. Nothing of the app's answer is kept but what a client had read
 * of headers it had sent (a stream): their status, named as a 502 `response-aborted` names it;
 * in the body's `sent`, the status and headers the page may read; and their cookies
 * (`cookies`), which a browser applies as they arrive.
 */
export const timedOut = (
  operation: BatchOperation,
  url: string,
  label: string,
  limit: number,
  sentStatus: number | undefined,
  cookies: CookieHeaders | undefined,
  sent?: SentBeforeAbort,
): BatchResult =>
  keepingCookies(
    failure(
      operation,
      url,
      504,
      'operation-timeout',
      sentStatus === undefined
        ? `${label} took longer than ${limit} ms`
        : `${label} took longer than ${limit} ms: its headers (${sentStatus}) were sent, its end was not`,
      sent === undefined ? {} : { sent },
    ),
    cookies,
  );

/**
 * 502: the response passed `maxResponseBytes`. Its headers had gone out, and with them its
 * cookies (`cookies`), which a client that read that much had stored; in the body's `sent`,
 * the status and headers it had read, as a `response-aborted` entry gives them.
 */
export const responseTooLarge = (
  operation: BatchOperation,
  url: string,
  label: string,
  limit: number,
  onceDecoded: boolean,
  cookies: CookieHeaders | undefined,
  sent?: SentBeforeAbort,
): BatchResult =>
  keepingCookies(
    failure(
      operation,
      url,
      502,
      'response-too-large',
      `${label} answered more than maxResponseBytes (${limit} bytes)${onceDecoded ? ' once decoded' : ''}`,
      sent === undefined ? {} : { sent },
    ),
    cookies,
  );

/** 502: the answer, whole, does not fit in the reply; its cookies (`cookies`) are kept. */
export const replyTooLarge = (
  operation: BatchOperation,
  url: string,
  label: string,
  status: number,
  limit: number,
  cookies: CookieHeaders | undefined,
): BatchResult =>
  keepingCookies(
    failure(
      operation,
      url,
      502,
      'reply-too-large',
      `${label} answered ${status}, but its response would take the batch reply past maxReplyBytes (${limit} bytes)`,
    ),
    cookies,
  );

/**
 * 502: the response closed before its end. Nothing of the app's answer is kept but the cookies
 * of the headers it had sent, which a browser stores as they arrive, whatever the body does,
 * and, in the body's `sent`, the status and headers a client had read.
 */
export const responseAborted = (
  operation: BatchOperation,
  url: string,
  label: string,
  why: string,
  cookies: CookieHeaders | undefined,
  sent?: SentBeforeAbort,
): BatchResult =>
  keepingCookies(
    failure(
      operation,
      url,
      502,
      'response-aborted',
      `${label}: ${why}`,
      sent === undefined ? {} : { sent },
    ),
    cookies,
  );

/**
 * 403: the batch came from a page of another origin, which could not have made this operation
 * itself: its browser's preflight failed, or the response does not let the page read it (nothing
 * of the app's answer is kept but the cookies it set, which the browser stores from any
 * response). `what` is all the page learns, as fetch() tells it no more than that it failed;
 * `detail`, why CORS refused, goes to the server's listeners ({@link failureDetailOf}).
 */
export const corsRefused = (
  operation: BatchOperation,
  url: string,
  label: string,
  what: string,
  detail: string,
  cookies: CookieHeaders | undefined,
): BatchResult => {
  const result = keepingCookies(failure(operation, url, 403, 'cors', `${label} ${what}`), cookies);
  details.set(result, detail);
  return result;
};
