import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { performance } from 'node:perf_hooks';
import type { StartStream, StartWork } from '../dispatch/operation.task.js';
import type { BatchFormat } from '../batch.constants.js';
import { BatchListener } from '../decorators/batch-listener.decorator.js';
import type {
  BatchEnd,
  BatchEventListener,
  BatchStartEvent,
} from '../interfaces/batch-events.interface.js';
import type { BatchOutcome, BatchResult } from '../interfaces/batch-operation.interface.js';
import type { BatchPlan } from '../plan/batch.planner.js';
import { failureDetailOf, failureReasonOf } from '../operation/operation.failures.js';

type Hook = keyof BatchEventListener;

let lastBatchId = 0;

/**
 * Finds the `@BatchListener()` providers at bootstrap and tells them about batches. Listener
 * providers, rather than RxJS streams the app subscribes to: a subscriber that throws inside an
 * RxJS `next` is reported by RxJS on a timer, as an uncaught exception that stops the process,
 * out of the library's reach; a listener's method is called here, inside a try, and a listener
 * is declared the way Nest apps declare everything else, with its dependencies injected.
 */
@Injectable()
export class BatchEvents implements OnModuleInit {
  private readonly logger = new Logger('BatchModule');
  private listeners: readonly BatchEventListener[] = [];

  constructor(private readonly discovery: DiscoveryService) {}

  onModuleInit(): void {
    const found = new Set<BatchEventListener>();
    for (const wrapper of this.discovery.getProviders()) {
      const instance: unknown = wrapper.isDependencyTreeStatic() ? wrapper.instance : undefined;
      if (typeof instance !== 'object' || instance === null) continue;
      if (Reflect.getMetadata(BatchListener.KEY, instance.constructor) === true) {
        found.add(instance);
      }
    }
    this.listeners = [...found];
  }

  /** The tracker of a batch that starts now; undefined without listeners, which then cost nothing. */
  track(
    plan: BatchPlan,
    format: BatchFormat | undefined,
    context: { request?: BatchStartEvent['request'] },
    /** What cuts the batch off early: read at its end, to tell an abort from a timeout. */
    cutOff?: { readonly aborted: boolean },
  ): BatchTracker | undefined {
    if (this.listeners.length === 0) return undefined;
    const start: BatchStartEvent = {
      batchId: ++lastBatchId,
      format,
      operationCount: plan.operations.length,
      request: context.request,
    };
    return new BatchTracker(this, plan, start, cutOff);
  }

  /** Calls every listener's `hook`; what one throws or rejects is logged, never passed on. */
  emit<H extends Hook>(hook: H, event: Parameters<NonNullable<BatchEventListener[H]>>[0]): void {
    for (const listener of this.listeners) {
      const method = listener[hook] as ((event: unknown) => unknown) | undefined;
      if (typeof method !== 'function') continue;
      try {
        const returned = method.call(listener, event);
        if (isThenable(returned))
          returned.then(undefined, (error: unknown) => this.failed(hook, error));
      } catch (error) {
        this.failed(hook, error);
      }
    }
  }

  private failed(hook: Hook, error: unknown): void {
    this.logger.error(
      `A batch listener's ${hook} failed; the batch goes on: ${String(error)}`,
      error instanceof Error ? error.stack : undefined,
    );
  }
}

/** One batch's events: its start and end, and each operation's answer with its duration. */
export class BatchTracker {
  private readonly startedAt = performance.now();
  private readonly operationStarts: number[] = [];

  constructor(
    private readonly events: BatchEvents,
    private readonly plan: BatchPlan,
    private readonly start: BatchStartEvent,
    private readonly signal: { readonly aborted: boolean } | undefined,
  ) {}

  /** An operation's run, timed from its start: when it has taken its slot. */
  operation(index: number, start: StartWork<BatchResult>): StartWork<BatchResult> {
    return (done, fail) => {
      this.operationStarts[index] = performance.now();
      return start(done, fail);
    };
  }

  /** The batch's outcomes, passed on unchanged, with the events told on the way. */
  watch(outcomes: StartStream<BatchOutcome>): StartStream<BatchOutcome> {
    return (subscriber) => {
      const { events, start, plan } = this;
      const total = plan.operations.length;
      let finished = 0;
      let refused = 0;
      let timedOut = 0;
      let ended = false;
      const end = (how: BatchEnd): void => {
        if (ended) return;
        ended = true;
        const unfinished = total - finished;
        events.emit('onBatchFinish', {
          ...start,
          end: how,
          durationMs: performance.now() - this.startedAt,
          finished,
          refused,
          timedOut: timedOut + (how === 'timed-out' ? unfinished : 0),
          unfinished,
        });
      };
      events.emit('onBatchStart', start);
      const abandon = outcomes({
        next: (outcome) => {
          const { index, result } = outcome;
          const reason = failureReasonOf(result);
          finished++;
          if (reason === 'operation-timeout') timedOut++;
          else if (reason !== undefined) refused++;
          events.emit('onOperationFinish', {
            batchId: start.batchId,
            index,
            name: plan.operations[index]?.operation.name,
            method: result.method,
            url: result.url,
            status: result.code,
            durationMs: performance.now() - (this.operationStarts[index] ?? this.startedAt),
            reason,
            detail: reason === 'cors' ? failureDetailOf(result) : undefined,
          });
          subscriber.next(outcome);
        },
        error: (error: unknown) => {
          end('failed');
          subscriber.error(error);
        },
        complete: () => {
          end(finished === total ? 'completed' : this.signal?.aborted ? 'aborted' : 'timed-out');
          subscriber.complete();
        },
      });
      return () => {
        abandon();
        // Stopped from outside before the end: a streamed reply's client went away.
        end('aborted');
      };
    };
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
