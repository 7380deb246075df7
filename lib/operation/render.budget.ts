import { RenderLimitError, type RenderBudget, type RenderLimits } from '../plan/render.limits.js';

/**
 * The bytes one batch's references have substituted, and the budget of each operation: its own
 * cap, within what the batch has left. An operation's bytes count against the batch only once it
 * has rendered in full, so a refused operation costs the others nothing.
 */
export class BatchRenderBudget {
  /** Committed by operations that rendered in full. */
  private spent = 0;

  constructor(private readonly limits: RenderLimits) {}

  /** Made once per batch, shared by every operation's budget. */
  private readonly share: BatchShare = {
    left: (pending) => this.limits.maxBatchRenderedBytes - this.spent - pending,
    commit: (bytes) => {
      this.spent += bytes;
    },
  };

  /** A budget for one operation; call `commit` once its request is built. */
  forOperation(): OperationRenderBudget {
    return new OperationRenderBudget(this.limits, this.share);
  }
}

/** What an operation's budget may ask of its batch's. */
interface BatchShare {
  /** Bytes the batch has left once `pending` more are counted. */
  left(pending: number): number;
  commit(bytes: number): void;
}

/**
 * One operation's budget. A class, not an object literal with an accessor and closures of its
 * own: one is made per operation, and those were a measurable part of the executor's CPU.
 */
export class OperationRenderBudget implements RenderBudget {
  private spent = 0;

  constructor(
    private readonly limits: RenderLimits,
    private readonly batch: BatchShare,
  ) {}

  get left(): number {
    return Math.min(this.limits.maxRenderedBytes - this.spent, this.batch.left(this.spent));
  }

  spend(bytes: number): void {
    const { maxRenderedBytes, maxBatchRenderedBytes } = this.limits;
    if (bytes > maxRenderedBytes - this.spent) {
      throw new RenderLimitError(
        `its references render more than ${maxRenderedBytes} bytes (maxRenderedBytes)`,
      );
    }
    if (bytes > this.batch.left(this.spent)) {
      throw new RenderLimitError(
        `its references render more than ${maxBatchRenderedBytes} bytes in this batch (maxBatchRenderedBytes)`,
      );
    }
    this.spent += bytes;
  }

  commit(): void {
    this.batch.commit(this.spent);
    this.spent = 0;
  }
}
