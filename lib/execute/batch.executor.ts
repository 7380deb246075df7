import { Inject, Injectable } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import {
  defer,
  fromEvent,
  lastValueFrom,
  Observable,
  of,
  type Subscription,
  takeUntil,
  tap,
  timeout,
  timer,
} from 'rxjs';
import { BATCH_OPTIONS } from '../batch.internal-constants.js';
import type { ResolvedBatchOptions } from '../batch.options.js';
import { validatedOperations } from '../operation/operation.rules.js';
import { DispatcherHost } from '../dispatch/dispatcher.host.js';
import type { DispatchResponse, OperationDispatcher } from '../dispatch/operation.dispatcher.js';
import { createParentContext, type ParentContext } from '../dispatch/parent.context.js';
import { decodeResponseBody } from '../dispatch/response.body.js';
import type {
  BatchEntry,
  BatchOperation,
  BatchOutcome,
  BatchResult,
} from '../interfaces/batch-operation.interface.js';
import { planBatch, type BatchPlan, type PlannedOperation } from '../plan/batch.planner.js';
import { UnmatchedReferenceError } from '../plan/reference.resolver.js';
import { RenderLimitError } from '../plan/render.limits.js';
import { compileExclusions, type ExclusionTest } from '../policy/route.exclusions.js';
import { BatchReferences } from './batch.references.js';
import { BatchCookieJar } from './cookie.jar.js';
import { scheduleGraph } from './dependency.scheduler.js';
import { OperationQueue } from './operation.queue.js';
import { buildRequest, InvalidRenderedRequestError } from './operation.request.js';
import { ReplyBudget } from './reply.budget.js';
import { failureResult, isSuccess, toEntry } from './operation.results.js';

/**
 * Where a batch comes from and how long it may take.
 * @publicApi
 */
export interface BatchRunContext {
  /**
   * The batch request. Operations inherit its headers (see `inheritHeaders`) and client address.
   * Without it, operations run as requests from the process itself.
   */
  request?: IncomingMessage;
  /** Aborting stops the batch: operations not yet started never start. */
  signal?: AbortSignal;
  /**
   * Asked before each operation starts; a promise holds the start back until it settles. Lets a
   * consumer that streams results apply back-pressure: while its reader is behind, no new
   * operation starts.
   */
  readyToStart?: () => PromiseLike<void> | undefined;
}

/**
 * Runs batches: plans the operations into a dependency graph, then dispatches each one through
 * the app's own HTTP adapter, in parallel where nothing orders them. Inject it to run batches
 * from your own code.
 * @publicApi
 */
@Injectable()
export class BatchExecutor {
  private readonly excluded: ExclusionTest;

  constructor(
    @Inject(BATCH_OPTIONS) private readonly options: ResolvedBatchOptions,
    private readonly dispatchers: DispatcherHost,
    private readonly queue: OperationQueue,
  ) {
    this.excluded = compileExclusions(options.exclude);
  }

  /**
   * Emits each operation's outcome as it completes (completion order, not request order) and
   * completes when all are done or the batch timeout is reached. Nothing runs until subscribed;
   * unsubscribing stops operations not yet started and abandons running ones. Operations are
   * held to the batch endpoint's rules (methods, urls, headers, names, `limit`).
   * @throws InvalidBatchException (as the stream's error) when an operation breaks a rule or the
   *   batch cannot be planned; BatchLimitExceededException past `limit`.
   */
  run(
    operations: readonly BatchOperation[],
    context: BatchRunContext = {},
  ): Observable<BatchOutcome> {
    return defer(() => {
      // The one validation boundary: operations from code get the endpoint's rules too.
      const plan = planBatch(validatedOperations(operations, this.options.limit), this.options);
      const results: (BatchResult | undefined)[] = [];
      const parent = createParentContext(context.request, this.options.inheritHeaders);
      const batch: BatchRun = {
        plan,
        results,
        references: new BatchReferences(plan.names, results, this.options),
        dispatcher: this.dispatchers.get(),
        parent,
        reply: new ReplyBudget(this.options.maxReplyBytes),
        cookies: new BatchCookieJar(parent),
      };
      // The slot across batches is taken after `readyToStart`: a stalled reader holds none.
      const lane = this.queue.lane();
      let outcomes = scheduleGraph(
        {
          dependents: plan.dependents,
          dependencyCounts: plan.operations.map((planned) => planned.dependencies.length),
        },
        (index, failedDependency) =>
          onNextTurn(context.readyToStart, () =>
            lane.run(() => this.runOperation(batch, index, failedDependency)),
          ),
        (result) => isSuccess(result.code),
        this.options.concurrency,
      ).pipe(tap(({ index, result }) => (results[index] = result)));
      if (this.options.timeout > 0)
        outcomes = outcomes.pipe(takeUntil(timer(this.options.timeout)));
      if (context.signal) outcomes = outcomes.pipe(takeUntil(aborted(context.signal)));
      return outcomes;
    });
  }

  /**
   * Runs a batch and resolves with one entry per operation, in request order: `null` for an
   * operation unfinished at the timeout, or omitted on success. Operations are held to the batch
   * endpoint's rules, as by {@link BatchExecutor.run}.
   * @throws InvalidBatchException when an operation breaks a rule or the batch cannot be planned;
   *   BatchLimitExceededException past `limit`. Nothing has run then.
   */
  async execute(
    operations: readonly BatchOperation[],
    context: BatchRunContext = {},
  ): Promise<BatchEntry[]> {
    const valid = validatedOperations(operations, this.options.limit);
    const entries = valid.map((): BatchEntry => null);
    await lastValueFrom(
      this.run(valid, context).pipe(
        tap(({ index, result }) => {
          const operation = valid[index];
          if (operation) entries[index] = toEntry(operation, result);
        }),
      ),
      { defaultValue: undefined },
    );
    return entries;
  }

  private runOperation(
    { plan, results, references, dispatcher, parent, reply, cookies }: BatchRun,
    index: number,
    failedDependency: number | undefined,
  ): Observable<BatchResult> {
    const planned = plan.operations[index] as PlannedOperation;
    const { operation, label } = planned;
    if (failedDependency !== undefined) {
      const code = results[failedDependency]?.code ?? 0;
      const dependency = plan.operations[failedDependency]?.label ?? String(failedDependency);
      return of(
        failureResult(
          operation,
          operation.url,
          424,
          `${label} was not run: its dependency ${dependency} ${
            code === 424 ? 'was not run either' : `answered ${code}`
          }`,
          { failedDependency },
        ),
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
        return of(failureResult(operation, operation.url, 400, `${label}: ${error.message}`));
      }
      throw error;
    }

    const { url } = request;
    if (this.excluded(request.method, url)) {
      return of(
        failureResult(
          operation,
          url,
          403,
          `${label} cannot be run in a batch: ${request.method} ${url} is excluded (exclude option)`,
        ),
      );
    }
    // One subscriber per operation instead of a map and a catchError: the executor pays for
    // every layer once per operation, which the benchmark's profile showed.
    let answered = new Observable<BatchResult>((subscriber) =>
      dispatcher.dispatch(request, parent).subscribe({
        next: (response) => {
          let result: BatchResult;
          try {
            result = this.toResult(operation, url, response, label, reply);
            cookies.store(result);
          } catch (error) {
            result = failureResult(operation, url, 500, `${label} failed: ${String(error)}`);
          }
          subscriber.next(result);
        },
        error: (error: unknown) => {
          subscriber.next(
            failureResult(
              operation,
              url,
              500,
              `${label} failed before the app answered: ${String(error)}`,
            ),
          );
          subscriber.complete();
        },
        complete: () => subscriber.complete(),
      }),
    );
    const limit = this.options.operationTimeout;
    if (limit > 0) {
      answered = answered.pipe(
        timeout({
          first: limit,
          with: () =>
            of(failureResult(operation, url, 504, `${label} took longer than ${limit} ms`)),
        }),
      );
    }
    return answered;
  }

  private toResult(
    operation: BatchOperation,
    url: string,
    response: DispatchResponse,
    name: string,
    reply: ReplyBudget,
  ): BatchResult {
    if (response.truncated) {
      return failureResult(
        operation,
        url,
        502,
        `${name} answered more than maxResponseBytes (${this.options.maxResponseBytes} bytes)`,
      );
    }
    if (!reply.charge(response)) {
      return failureResult(
        operation,
        url,
        502,
        `${name} answered ${response.statusCode}, but its response would take the batch reply past maxReplyBytes (${reply.limit} bytes)`,
      );
    }
    const contentType = response.headers['content-type'];
    return {
      method: operation.method,
      url,
      code: response.statusCode,
      headers: response.headers,
      ...decodeResponseBody(
        response.body,
        typeof contentType === 'string' ? contentType : undefined,
        response.headers['content-encoding'],
      ),
    };
  }
}

/** What every operation of one batch shares; made once per batch. */
interface BatchRun {
  readonly plan: BatchPlan;
  /** Results so far, by operation index. */
  readonly results: readonly (BatchResult | undefined)[];
  /** Each distinct reference evaluated once, and the bytes rendered so far. */
  readonly references: BatchReferences;
  readonly dispatcher: OperationDispatcher;
  readonly parent: ParentContext;
  /** What the batch's responses may still add to its reply. */
  readonly reply: ReplyBudget;
  /** The cookies operations set, for the operations after them. */
  readonly cookies: BatchCookieJar;
}

/**
 * Subscribes on the next turn of the event loop, so timers and I/O keep running between
 * operations, however many run synchronously, and no chain of operations recurses. Then, if
 * `readyToStart` returns a promise, once it settles (back-pressure of a streamed reply).
 */
function onNextTurn<T>(
  readyToStart: BatchRunContext['readyToStart'],
  source: () => Observable<T>,
): Observable<T> {
  return new Observable<T>((subscriber) => {
    let inner: Subscription | undefined;
    let stopped = false;
    const start = (): void => {
      if (stopped) return;
      // Thrown here it would escape the immediate and crash the process: the batch fails instead.
      try {
        inner = source().subscribe(subscriber);
      } catch (error) {
        subscriber.error(error);
      }
    };
    const handle = setImmediate(() => {
      const ready = readyToStart?.();
      if (ready) ready.then(start, (error: unknown) => subscriber.error(error));
      else start();
    });
    return () => {
      stopped = true;
      clearImmediate(handle);
      inner?.unsubscribe();
    };
  });
}

function aborted(signal: AbortSignal): Observable<unknown> {
  return signal.aborted ? of(undefined) : fromEvent(signal, 'abort');
}
