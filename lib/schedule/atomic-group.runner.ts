import { AsyncResource } from 'node:async_hooks';
import { AtomicGroupsUnavailableException } from '../batch.exceptions.js';
import type { ResolvedBatchOptions } from '../batch.options.js';
import type { DispatchRequest, OperationDispatcher } from '../dispatch/operation.dispatcher.js';
import type { Abandon, StartStream, StartWork } from '../dispatch/operation.task.js';
import type { BatchOutcome, BatchResult } from '../interfaces/batch-operation.interface.js';
import type { AtomicGroup, UnitGraph } from '../plan/atomic-group.graph.js';
import type { BatchPlan } from '../plan/batch.planner.js';
import { scheduleGraph } from './dependency.scheduler.js';
import { groupCookies, type GroupCookies } from './group.cookies.js';
import { groupTimedOut, rolledBack, transactionFailed } from './group.failures.js';
import type { BatchRun } from '../operation/batch.run.js';
import { OperationQueue, type HeldWork } from './operation.queue.js';
import { isSuccess } from './operation.results.js';
import { withoutCookieHeaders } from '../operation/entry.headers.js';
import { forgetClearSiteData } from '../operation/cookie.rules.js';

/** Starts one operation of the batch (through the executor's turn and lane) with the run given. */
export type StartOperation = (
  run: BatchRun,
  index: number,
  failedDependency: number | undefined,
) => StartWork<BatchResult>;

/** Thrown into the group's work when the batch is cut off (timeout, client gone): roll back. */
class GroupCutOffError extends Error {
  constructor() {
    super('the batch was cut off (batch timeout or client disconnect) while the group ran');
  }
}

/** Thrown out of the group's work when one of its operations failed: roll back. */
class GroupFailedError extends Error {}

/** What the atomic groups of a batch may hold, and how they are run. */
export type AtomicGroupOptions = Pick<
  ResolvedBatchOptions,
  'transaction' | 'groupConcurrency' | 'globalGroupConcurrency' | 'groupTimeout'
>;

/**
 * Runs a batch that holds atomic groups: every group is one unit of the dependency graph (see
 * `unitGraph`), run by {@link AtomicGroupRunner.runGroup}; every other operation a unit of its own,
 * run as without groups. Outcomes of a group are emitted together once its transaction has
 * ended, so no entry ever shows a write that was then rolled back.
 */
/**
 * Refuses a batch with groups when there is no hook: a group never runs without a transaction.
 * @throws AtomicGroupsUnavailableException
 */
export function checkAtomicGroups(plan: BatchPlan, options: AtomicGroupOptions): void {
  if (plan.groups.length > 0 && options.transaction === null) {
    throw new AtomicGroupsUnavailableException(plan.groups.map((group) => group.name));
  }
}

export class AtomicGroupRunner {
  /**
   * Bound at bootstrap, outside any request: the hook is called in a fresh async context, so the
   * group's context holds the transaction and nothing of the batch request's own (its CLS store).
   */
  private readonly outsideRequests = AsyncResource.bind(<T>(fn: () => T): T => fn());

  private readonly hook: AtomicGroupOptions['transaction'];
  /** Groups open across every batch of the app (`globalGroupConcurrency`), batches in turn. */
  private readonly appGroups: OperationQueue;

  constructor(private readonly options: AtomicGroupOptions) {
    this.hook = options.transaction;
    this.appGroups = OperationQueue.withLimit(options.globalGroupConcurrency);
  }

  /**
   * Schedules the units, at most `concurrency` at a time (`inOrder`: by request order, as the
   * executor runs a sequential batch), and emits each operation's outcome.
   */
  schedule(
    batch: BatchRun,
    graph: UnitGraph,
    start: StartOperation,
    record: (index: number, result: BatchResult) => void,
    concurrency: number,
    perTurn: number,
    inOrder = false,
  ): StartStream<BatchOutcome> {
    /** The operation a failed unit names to its dependents: the one that failed. */
    const failedOperation: number[] = [];
    // A group waits for a turn of its batch's (`groupConcurrency`), then of the app's, before its
    // hook is called: what it holds is counted from when it may open a transaction. It keeps both
    // turns until the hook has settled, even when the batch is cut off first: a rollback still
    // on its way (or a hook still waiting for a pool connection) holds a connection, and a client
    // that disconnects again and again must not open more transactions than the caps allow.
    const batchGroups = OperationQueue.withLimit(this.options.groupConcurrency).lane();
    const appGroups = this.appGroups.lane();
    return (subscriber) =>
      scheduleGraph(
        graph,
        (unit, failedUnit) => {
          const failed = failedUnit === undefined ? undefined : failedOperation[failedUnit];
          const members = graph.units[unit] ?? [];
          const group = graph.groups[unit];
          if (group === undefined || failed !== undefined) {
            return this.each(batch, members, start, failed, record);
          }
          return batchGroups.hold(appGroups.hold(this.runGroup(batch, group, start, record)));
        },
        (outcomes) => outcomes.every(({ result }) => isSuccess(result.code)),
        concurrency,
        perTurn,
        // A unit's place is its first operation's: a group stands where its first member does.
        inOrder ? (unit) => graph.units[unit]?.[0] ?? unit : undefined,
      )({
        next: ({ index: unit, result: outcomes }) => {
          const failed = outcomes.find(({ result }) => !isSuccess(result.code));
          if (failed) failedOperation[unit] = failed.index;
          for (const outcome of outcomes) subscriber.next(outcome);
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
  }

  /** Operations run one after the other as without groups (one, or a group's, not to be run). */
  private each(
    batch: BatchRun,
    members: readonly number[],
    start: StartOperation,
    failedDependency: number | undefined,
    record: (index: number, result: BatchResult) => void,
  ): StartWork<BatchOutcome[]> {
    return (done, fail) => {
      const outcomes: BatchOutcome[] = [];
      let current: Abandon | undefined;
      // A loop, not recursion, over operations that answer at once (a 424 for a failed
      // dependency): a long group must not grow the stack.
      const next = (from: number): void => {
        for (let at = from; ; at++) {
          const index = members[at];
          if (index === undefined) {
            done(outcomes);
            return;
          }
          const call = { starting: true, answeredAtOnce: false, answered: false };
          current = start(
            batch,
            index,
            failedDependency,
          )((result) => {
            // Once per member, as every other layer takes an answer.
            if (call.answered) return;
            call.answered = true;
            record(index, result);
            outcomes.push({ index, result });
            if (call.starting) call.answeredAtOnce = true;
            else next(at + 1);
          }, fail);
          call.starting = false;
          if (!call.answeredAtOnce) return;
        }
      };
      next(0);
      return () => current?.();
    };
  }

  /**
   * One group: the hook opens the transaction and calls `work`, which runs the members in
   * request order, each dispatched in the async context `work` runs in (the transaction's).
   * `work` rejects on the first non-2xx answer (timeouts and throws are answers: 504, 500), when
   * the group passes `groupTimeout`, and when the batch is cut off, so the hook rolls back; the
   * outcomes say so. It rejects at once, even while a member still runs in the app: a handler
   * that ignores its abort must not keep the transaction, its connection and its locks open.
   * What that handler writes afterwards goes through a transaction that has ended, and fails.
   */
  private runGroup(
    batch: BatchRun,
    group: AtomicGroup,
    start: StartOperation,
    record: (index: number, result: BatchResult) => void,
  ): HeldWork<BatchOutcome[]> {
    const hook = this.hook;
    if (hook === null) throw new AtomicGroupsUnavailableException([group.name]);
    const limit = this.options.groupTimeout;
    return (reply, _fail, released) => {
      let ended = false;
      let current: Abandon | undefined;
      let cut: (() => void) | undefined;
      let called = false;
      let failure: BatchOutcome | undefined;
      let workError: unknown;
      let cookies: GroupCookies | undefined;
      const done: BatchOutcome[] = [];

      const work = async (): Promise<void> => {
        called = true;
        // A hook may retry (a serialization failure): the entries are those of the last attempt.
        failure = undefined;
        workError = undefined;
        done.length = 0;
        cookies = groupCookies(batch.cookies);
        /** The member running now, for the time limit to name. */
        let running: number | undefined;
        const timer = setTimeout(() => {
          const planned = running === undefined ? undefined : batch.plan.operations[running];
          if (running === undefined || !planned) return;
          const result = groupTimedOut(
            planned.operation,
            batch.results[running]?.url ?? planned.operation.url,
            planned.label,
            group.name,
            limit,
          );
          record(running, result);
          failure = { index: running, result };
          const stop = cut;
          current?.();
          stop?.();
        }, limit);
        try {
          const inTransaction = AsyncResource.bind(<T>(fn: () => T): T => fn());
          const run: BatchRun = {
            ...batch,
            cookies: cookies.jar,
            dispatcher: runningIn(batch.dispatcher, inTransaction),
          };
          for (const index of group.members) {
            if (ended) throw new GroupCutOffError();
            running = index;
            const result = await new Promise<BatchResult>((resolve, reject) => {
              cut = () => reject(new GroupCutOffError());
              current = start(run, index, undefined)(resolve, reject);
            });
            cut = undefined;
            record(index, result);
            done.push({ index, result });
            if (!isSuccess(result.code)) {
              failure = { index, result };
              throw new GroupFailedError(`operation ${index} answered ${result.code}`);
            }
          }
          running = undefined;
        } catch (error) {
          workError = error;
          throw error;
        } finally {
          clearTimeout(timer);
        }
      };

      const settle = (hookError?: { error: unknown }): void => {
        if (ended) return; // cut off: the entries stay empty, the rollback is the hook's
        let outcomes: BatchOutcome[];
        if (failure) outcomes = this.rolledBack(batch, group, failure);
        else if (workError !== undefined) {
          // The group's own machinery failed (a start that threw): nothing may stand.
          outcomes = this.failed(batch, group, workError);
        } else if (hookError || !called) {
          outcomes = this.failed(
            batch,
            group,
            hookError ? hookError.error : new Error('the transaction hook did not run the group'),
          );
        } else {
          outcomes = done;
          cookies?.commit();
        }
        for (const { index, result } of outcomes) record(index, result);
        reply(outcomes);
      };

      this.outsideRequests(() => {
        let transaction: PromiseLike<unknown>;
        try {
          transaction = hook(work);
        } catch (error) {
          transaction = Promise.reject(error instanceof Error ? error : new Error(String(error)));
        }
        // Only once the hook has settled is the transaction over, its connection back in the
        // pool: then the group's turns go (`released`), whether or not the batch is still there.
        Promise.resolve(transaction)
          .then(
            () => settle(),
            (error: unknown) => settle({ error }),
          )
          .finally(() => released?.());
      });
      return () => {
        ended = true;
        cut?.();
        current?.();
      };
    };
  }

  /**
   * The failed member keeps its answer, less the cookies it set: nothing of a rolled-back group
   * stands, so the reply relays none of them (the group's other cookies never left its copy of
   * the jar). Every other member is reported rolled back.
   */
  private rolledBack(batch: BatchRun, group: AtomicGroup, failure: BatchOutcome): BatchOutcome[] {
    const failedLabel = batch.plan.operations[failure.index]?.label ?? String(failure.index);
    dropCookies(failure.result);
    return group.members.map((index) => {
      if (index === failure.index) return failure;
      const planned = batch.plan.operations[index];
      const ran = batch.results[index];
      const result = planned
        ? rolledBack(planned.operation, ran?.url ?? planned.operation.url, planned.label, {
            group: group.name,
            failed: { index: failure.index, label: failedLabel, code: failure.result.code },
            ran: ran !== undefined,
          })
        : failure.result;
      return { index, result };
    });
  }

  private failed(batch: BatchRun, group: AtomicGroup, error: unknown): BatchOutcome[] {
    return group.members.map((index) => {
      const planned = batch.plan.operations[index];
      const result = planned
        ? transactionFailed(planned.operation, planned.label, group.name, error)
        : (batch.results[index] as BatchResult);
      return { index, result };
    });
  }
}

/**
 * Takes `Set-Cookie` out of a result in place, and `Clear-Site-Data`, whose clearing of cookies
 * is undone with the group as their setting is (the later operations still have them, so the
 * reply leaves the browser's too): the same object is the batch's record of it and carries what
 * the runner noted of it (its failure reason, a body written from its chunks).
 */
function dropCookies(result: BatchResult): void {
  forgetClearSiteData(result);
  let kept = withoutCookieHeaders(result.headers);
  if ('clear-site-data' in result.headers) {
    kept ??= { ...result.headers };
    delete kept['clear-site-data'];
  }
  if (kept !== undefined) result.headers = kept;
}

/** The dispatcher, entering the app in `context` (the group's transaction) for each operation. */
function runningIn(
  dispatcher: OperationDispatcher,
  context: <T>(fn: () => T) => T,
): OperationDispatcher {
  return {
    dispatch: (request: DispatchRequest, parent, done, fail) =>
      dispatcher.dispatch({ ...request, runIn: context }, parent, done, fail),
  };
}
