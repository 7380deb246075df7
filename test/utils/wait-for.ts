import { Injectable, Module } from '@nestjs/common';
import { BatchListener, type BatchEventListener, type BatchFinishEvent } from 'nestjs-batch';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Resolves once `done()` holds; rejects naming `what` after `ms`. For state the test can read
 * but not be told about (a counter in the app, a row): a poll, never a fixed sleep. The bound
 * only keeps a broken run from hanging: it is generous, since CI machines are shared and a
 * suite there can run thirty times slower than alone.
 */
export async function until(
  done: () => boolean | Promise<boolean>,
  what: string,
  ms = 15_000,
): Promise<void> {
  for (const end = Date.now() + ms; !(await done()); await sleep(10)) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
  }
}

/** The batches that ended in the app, in order: import {@link BatchEndsModule} to hear them. */
@BatchListener()
@Injectable()
export class BatchEnds implements BatchEventListener {
  private readonly ended: BatchFinishEvent[] = [];
  private readonly waiting: ((event: BatchFinishEvent) => void)[] = [];

  onBatchFinish(event: BatchFinishEvent): void {
    const next = this.waiting.shift();
    if (next) next(event);
    else this.ended.push(event);
  }

  /** The next batch to end (or the oldest one that ended unheard). */
  next(): Promise<BatchFinishEvent> {
    const ended = this.ended.shift();
    if (ended) return Promise.resolve(ended);
    return new Promise((resolve) => this.waiting.push(resolve));
  }
}

@Module({ providers: [BatchEnds] })
export class BatchEndsModule {}
