import { Observable, of, timeout } from 'rxjs';
import type { EntryHeaderPolicy } from '../batch.constants.js';
import type { ResolvedBatchOptions } from '../batch.options.js';
import { decodeContentEncoding } from '../dispatch/content-encoding.js';
import type { DispatchResponse, OperationDispatcher } from '../dispatch/operation.dispatcher.js';
import type { ParentContext } from '../dispatch/parent.context.js';
import { decodeResponseBody } from '../dispatch/response.body.js';
import type { BatchOperation, BatchResult } from '../interfaces/batch-operation.interface.js';
import type { BatchPlan, PlannedOperation } from '../plan/batch.planner.js';
import { UnmatchedReferenceError } from '../plan/reference.resolver.js';
import { RenderLimitError } from '../plan/render.limits.js';
import type { RouteExclusions } from '../policy/route-exclusions.provider.js';
import type { BatchReferences } from './batch.references.js';
import type { BatchCookieJar } from './cookie.jar.js';
import {
  dependencyFailed,
  dispatchFailed,
  excluded,
  renderFailed,
  replyTooLarge,
  responseTooLarge,
  timedOut,
} from './operation.failures.js';
import { buildRequest, InvalidRenderedRequestError } from './operation.request.js';
import { entryHeaders } from './entry.headers.js';
import type { ReplyBudget } from './reply.budget.js';

/** What every operation of one batch shares; made once per batch by the executor. */
export interface BatchRun {
  readonly plan: BatchPlan;
  /** Results so far, by operation index. */
  readonly results: readonly (BatchResult | undefined)[];
  /** The batch's references, each evaluated once, and its rendering budget. */
  readonly references: BatchReferences;
  readonly dispatcher: OperationDispatcher;
  readonly parent: ParentContext;
  /** What the batch's responses may still add to its reply. */
  readonly reply: ReplyBudget;
  /** The cookies operations set, for the operations after them. */
  readonly cookies: BatchCookieJar;
  /** What each entry carries of its response's headers. */
  readonly entryHeaders: EntryHeaderPolicy;
}

/**
 * One operation's whole life, once the executor has scheduled it: not run when a dependency
 * failed (424), references rendered (400 when they cannot be), the exclusions checked (403),
 * dispatched into the app, and its answer read (500 when it cannot be, 502 past a size cap, 504
 * past `operationTimeout`). Every way it can end without the app's answer has a named failure
 * (operation.failures.ts).
 */
export class OperationRunner {
  constructor(
    private readonly options: ResolvedBatchOptions,
    private readonly exclusions: RouteExclusions,
  ) {}

  run(
    batch: BatchRun,
    index: number,
    failedDependency: number | undefined,
  ): Observable<BatchResult> {
    const { plan, results, references, dispatcher, parent, reply, cookies } = batch;
    const planned = plan.operations[index] as PlannedOperation;
    const { operation, label } = planned;
    if (failedDependency !== undefined) {
      return of(
        dependencyFailed(operation, label, {
          index: failedDependency,
          label: plan.operations[failedDependency]?.label ?? String(failedDependency),
          code: results[failedDependency]?.code ?? 0,
        }),
      );
    }

    let request;
    const budget = references.rendered.forOperation();
    try {
      request = buildRequest(planned, references.lookup, budget, parent);
      budget.commit();
      cookies.attach(request, operation);
    } catch (error) {
      if (
        error instanceof UnmatchedReferenceError ||
        error instanceof InvalidRenderedRequestError ||
        error instanceof RenderLimitError
      ) {
        return of(renderFailed(operation, label, error.message));
      }
      throw error;
    }

    const { url } = request;
    if (this.exclusions.excludes(request.method, url)) {
      return of(excluded(operation, url, label, request.method));
    }
    // One subscriber per operation instead of a map and a catchError: the executor pays for
    // every layer once per operation, which the benchmark's profile showed.
    let answered = new Observable<BatchResult>((subscriber) =>
      dispatcher.dispatch(request, parent).subscribe({
        next: (response) => {
          let result: BatchResult;
          try {
            result = this.toResult(operation, url, response, label, reply, batch.entryHeaders);
            cookies.store(result);
          } catch (error) {
            result = dispatchFailed(operation, url, label, error, false);
          }
          subscriber.next(result);
        },
        error: (error: unknown) => {
          subscriber.next(dispatchFailed(operation, url, label, error, true));
          subscriber.complete();
        },
        complete: () => subscriber.complete(),
      }),
    );
    const limit = this.options.operationTimeout;
    if (limit > 0) {
      answered = answered.pipe(
        timeout({ first: limit, with: () => of(timedOut(operation, url, label, limit)) }),
      );
    }
    return answered;
  }

  /** The app's answer as the entry carries it: decoded, measured against the caps. */
  private toResult(
    operation: BatchOperation,
    url: string,
    response: DispatchResponse,
    label: string,
    reply: ReplyBudget,
    policy: EntryHeaderPolicy,
  ): BatchResult {
    const { maxResponseBytes } = this.options;
    const decoded = response.truncated
      ? undefined
      : decodeContentEncoding(response, maxResponseBytes);
    if (!decoded || decoded.kind === 'too-large') {
      return responseTooLarge(operation, url, label, maxResponseBytes, decoded !== undefined);
    }
    // Charged as the entry will carry it: decoded, when the app content-encoded it.
    if (!reply.charge(decoded.response)) {
      return replyTooLarge(operation, url, label, response.statusCode, reply.limit);
    }
    const { headers, body, statusCode } = decoded.response;
    const contentType = headers['content-type'];
    const entryBody = decodeResponseBody(
      body,
      typeof contentType === 'string' ? contentType : undefined,
      decoded.kind === 'encoded',
      // Only the app's own body: a decoded content coding made new bytes.
      decoded.kind === 'plain' ? decoded.response.text : undefined,
    );
    return {
      method: operation.method,
      url,
      code: statusCode,
      headers: entryHeaders(headers, policy, entryBody.body !== undefined),
      ...entryBody,
      ...(decoded.kind === 'decoded' ? { decodedContentEncoding: decoded.from } : {}),
    };
  }
}
