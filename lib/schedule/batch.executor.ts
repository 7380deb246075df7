import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { Observable } from 'rxjs';
import { BATCH_OPTIONS, type BatchFormat, type EntryHeaderPolicy } from '../batch.constants.js';
import type { ResolvedBatchOptions } from '../batch.options.js';
import { validatedOperations } from '../validation/operation.rules.js';
import { DispatcherHost } from '../dispatch/dispatcher.host.js';
import {
  observableOf,
  SettleOnce,
  type Abandon,
  type StartStream,
  type StartWork,
} from '../dispatch/operation.task.js';
import type {
  BatchEntry,
  BatchOperation,
  BatchOutcome,
  BatchResult,
} from '../interfaces/batch-operation.interface.js';
import { planBatch, type BatchPlan } from '../plan/batch.planner.js';
import { RouteExclusions } from '../policy/route-exclusions.provider.js';
import { withinBounds, type CutOff } from './batch.bounds.js';
import { BatchEvents } from '../events/batch.events.js';
import { AtomicGroupRunner, checkAtomicGroups } from './atomic-group.runner.js';
import { scheduleGraph } from './dependency.scheduler.js';
import { OperationQueue } from './operation.queue.js';
import { createBatchRun, type BatchCookieRules, type BatchRun } from '../operation/batch.run.js';
import { OperationRunner } from '../operation/operation.runner.js';
import { collectEntries } from './entries.collector.js';
import { isSuccess } from './operation.results.js';

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
  /**
   * Called once the batch is planned, before any operation starts, with the indices of the
   * operations that wait for each one (by `dependsOn` or a reference anywhere in it).
   */
  planned?: (dependents: readonly (readonly number[])[]) => void;
  /** The wire format the batch came in, for batch listeners (`@BatchListener()`). */
  format?: BatchFormat;
  /** What each entry carries of its response's headers; the `entryHeaders` option by default. */
  entryHeaders?: EntryHeaderPolicy;
  /**
   * Runs the operations one at a time, in request order: each starts once the one before it has
   * finished, whether it succeeded or not (an atomic group runs as one, where its first member
   * stands). Dependencies still apply: one whose dependency failed is answered 424. What a
   * multipart batch does unless `multipartParallel` is set. Default `false`: in parallel, within
   * `concurrency`.
   */
  sequential?: boolean;
}

/** A batch validated and planned, not yet started: what {@link planBatchRun} returns. */
export interface PlannedBatch {
  /** The operations, validated: give these to `BatchExecutor.run`, which then runs `plan`. */
  readonly operations: readonly BatchOperation[];
  readonly plan: BatchPlan;
}

/** Copied for each batch's results; never written to. */
const NO_RESULTS: readonly (BatchResult | undefined)[] = [];

/** Plans made ahead of a run, by the validated list they were made for. */
const plannedAhead = new WeakMap<readonly BatchOperation[], BatchPlan>();

/**
 * Validates and plans a batch now, and returns it ready to run, or throws what refuses it. The
 * batch endpoint plans first, so that a refusal is thrown from its handler to the app's exception
 * filters whenever and however the run starts later; {@link BatchExecutor.run}, given the
 * `operations` returned, runs this plan rather than planning again.
 * `literalText`: the format reads no reference in headers and bodies (multipart).
 * @throws InvalidBatchException when an operation breaks a rule or the batch cannot be planned;
 *   BatchLimitExceededException past `limit`; AtomicGroupsUnavailableException for groups without
 *   a `transaction` hook.
 */
export function planBatchRun(
  operations: readonly BatchOperation[],
  options: ResolvedBatchOptions,
  literalText = false,
): PlannedBatch {
  // The one validation boundary: operations from code get the endpoint's rules too.
  const valid = validatedOperations(operations, options.limit);
  const plan = planBatch(valid, options, literalText);
  checkAtomicGroups(plan, options);
  plannedAhead.set(valid, plan);
  return { operations: valid, plan };
}

/** {@link BatchExecutor.run}'s work as plain callbacks; set by the class, read by `outcomesOf`. */
let startOutcomes: (
  executor: BatchExecutor,
  operations: readonly BatchOperation[],
  context: BatchRunContext,
  cutOff: CutOff | undefined,
  cookieRules: BatchCookieRules | undefined,
  closesAfterReply: (() => boolean) | undefined,
) => StartStream<BatchOutcome>;

/**
 * What {@link BatchExecutor.run} emits, as a `StartStream`: the batch endpoint collects it
 * without an Observable between the executor and its reply. `cutOff` stands for
 * `context.signal`: the endpoint's is its reply's `'close'`, with no `AbortSignal` made for it.
 * `cookieRules.cutOff` takes the cookies of the operations the batch's end cuts off after their
 * headers (the outcomes have no place for an operation that never finished); `keepNone`, a
 * batch sent without credentials, whose jar keeps nothing. `closesAfterReply`: whether the
 * batch's connection is to close after its reply (see {@link BatchExecutor.onModuleDestroy}).
 */
export function outcomesOf(
  executor: BatchExecutor,
  operations: readonly BatchOperation[],
  context: BatchRunContext,
  cutOff: CutOff | undefined = context.signal,
  cookieRules?: BatchCookieRules,
  closesAfterReply?: () => boolean,
): StartStream<BatchOutcome> {
  return startOutcomes(executor, operations, context, cutOff, cookieRules, closesAfterReply);
}

/**
 * Runs batches: validates and plans the operations into a dependency graph, schedules them
 * (in parallel where nothing orders them, within `concurrency` and the cap across batches),
 * holds the batch to its deadline and abort signal, and collects the outcomes. Each operation's
 * own life is the OperationRunner's. Inject it to run batches from your own code.
 * @publicApi
 */
@Injectable()
export class BatchExecutor implements OnModuleDestroy {
  constructor(
    @Inject(BATCH_OPTIONS) private readonly options: ResolvedBatchOptions,
    private readonly dispatchers: DispatcherHost,
    private readonly queue: OperationQueue,
    exclusions: RouteExclusions,
    private readonly events: BatchEvents,
  ) {
    this.runner = new OperationRunner(options, exclusions);
    this.groups = new AtomicGroupRunner(options);
  }

  /** The app began to shut down: see {@link onModuleDestroy}. */
  private shuttingDown = false;

  /**
   * The app begins to shut down. From then on, once a batch's connection is to close after its
   * reply (http-terminator and the like mark the responses in flight `Connection: close`, and
   * take no new connection), an operation of it that waits for others starts no more: it stands
   * for a request a client sends once those answered, which would find the server closing; run,
   * it would meet the providers closed (a 500), or write after the drain. Operations running,
   * those without dependencies (sent with the batch), those of a batch whose connection stays
   * open (a drain window such as terminus's `gracefulShutdownTimeoutMs`, where the server still
   * serves), and batches run from code run on. Nest calls `onModuleDestroy` module by module,
   * nearest the root first, all before `beforeApplicationShutdown`, where graceful-shutdown
   * modules stop the server.
   */
  onModuleDestroy(): void {
    this.shuttingDown = true;
  }

  /** One operation's life; this class orchestrates the batch around it. */
  private readonly runner: OperationRunner;
  /** Atomic groups, each a unit run in the `transaction` hook (atomic-group.runner.ts). */
  private readonly groups: AtomicGroupRunner;

  static {
    startOutcomes = (executor, operations, context, cutOff, cookieRules, closesAfterReply) =>
      executor.outcomes(operations, context, cutOff, cookieRules, closesAfterReply);
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
    return observableOf(this.outcomes(operations, context, context.signal));
  }

  /** {@link BatchExecutor.run}'s work: started once per start, and abandoned by what it returns. */
  private outcomes(
    operations: readonly BatchOperation[],
    context: BatchRunContext,
    cutOff: CutOff | undefined,
    cookieRules?: BatchCookieRules,
    closesAfterReply?: () => boolean,
  ): StartStream<BatchOutcome> {
    return (sink) => {
      const plan = plannedAhead.get(operations) ?? planBatchRun(operations, this.options).plan;
      context.planned?.(plan.dependents);
      // A copy of an empty list, not `[]`: V8 soon made every `[]` of this line in the old
      // generation (allocation-site pretenuring), as it lives through the batch; dead, it kept
      // every result it held alive through the next young collection, which copied them all.
      const results: (BatchResult | undefined)[] = NO_RESULTS.slice();
      const batch = createBatchRun(
        plan,
        results,
        this.options,
        this.dispatchers.get(),
        context.request,
        this.dispatchers.traceParent(),
        context.entryHeaders,
        cookieRules,
        closesAfterReply && (() => this.shuttingDown && closesAfterReply()),
      );
      // The slot across batches is taken after `readyToStart`: a stalled reader holds none.
      const lane = this.queue.lane();
      // Undefined without listeners: then nothing below pays for them.
      const tracker = this.events.track(plan, context.format, context, cutOff);
      const start = (
        run: BatchRun,
        index: number,
        failedDependency: number | undefined,
      ): StartWork<BatchResult> => {
        const operation = this.runner.run(run, index, failedDependency);
        return whenReady(
          context.readyToStart,
          lane.run(tracker ? tracker.operation(index, operation) : operation),
        );
      };
      // A streamed reply decides before each start whether its reader is behind.
      const perTurn = context.readyToStart ? 1 : Infinity;
      const sequential = context.sequential === true;
      const concurrency = sequential ? 1 : this.options.concurrency;
      const scheduled = plan.units
        ? this.groups.schedule(
            batch,
            plan.units,
            start,
            (index, result) => (results[index] = result),
            concurrency,
            perTurn,
            sequential,
          )
        : scheduleGraph(
            {
              dependents: plan.dependents,
              dependencyCounts: plan.operations.map((planned) => planned.dependencies.length),
            },
            (index, failedDependency) => start(batch, index, failedDependency),
            (result) => isSuccess(result.code),
            concurrency,
            perTurn,
            sequential ? inRequestOrder : undefined,
          );
      const outcomes = withinBounds(scheduled, {
        timeout: this.options.timeout,
        signal: cutOff,
        record: (index, result) => (results[index] = result),
      });
      return (tracker ? tracker.watch(outcomes) : outcomes)(sink);
    };
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
    const planned = planBatchRun(operations, this.options);
    return collectEntries(
      planned.operations,
      this.outcomes(planned.operations, context, context.signal),
    );
  }
}

/** An operation's place in request order is its index. */
const inRequestOrder = (index: number): number => index;

/**
 * The operation once `readyToStart` lets it start: at once when it returns nothing, else once
 * its promise settles (back-pressure of a streamed reply). The scheduler already starts every
 * operation on a turn of its own, so there is no layer here when nothing holds it back.
 */
function whenReady<T>(
  readyToStart: BatchRunContext['readyToStart'],
  start: StartWork<T>,
): StartWork<T> {
  const ready = readyToStart?.();
  if (!ready) return start;
  return (done, fail) => {
    let abandonInner: Abandon | undefined;
    const abandoned = new SettleOnce();
    ready.then(
      () => {
        if (abandoned.ended) return;
        // Thrown here it would be an unhandled rejection: the batch fails instead.
        try {
          abandonInner = start(done, fail);
        } catch (error) {
          fail(error);
        }
      },
      (error: unknown) => {
        if (!abandoned.ended) fail(error);
      },
    );
    return () => {
      if (abandoned.end()) abandonInner?.();
    };
  };
}
