/**
 * An operation's references would pass one of the rendering caps; the message names the option.
 * The operation is answered 400 and never runs.
 */
export class RenderLimitError extends Error {}

/** Bytes references may still substitute; spending past it throws a {@link RenderLimitError}. */
export interface RenderBudget {
  /** Bytes left: a size walk stops once it passes this. */
  readonly left: number;
  /** @throws RenderLimitError when `bytes` is more than {@link RenderBudget.left}. */
  spend(bytes: number): void;
}

/** The caps every evaluation and rendering of one batch shares. */
export interface RenderLimits {
  readonly maxReferenceMatches: number;
  readonly maxReferenceNodes: number;
  readonly maxRenderedBytes: number;
  readonly maxBatchRenderedBytes: number;
}

/**
 * The bytes one batch's references have substituted, and the budget of each operation: its own
 * cap, within what the batch has left. An operation's bytes count against the batch only once it
 * has rendered in full, so a refused operation costs the others nothing.
 */
export class BatchRenderBudget {
  private spent = 0;

  constructor(private readonly limits: RenderLimits) {}

  /** A budget for one operation; call `commit` once its request is built. */
  forOperation(): RenderBudget & { commit(): void } {
    const { maxRenderedBytes, maxBatchRenderedBytes } = this.limits;
    let spent = 0;
    const batch = (): number => maxBatchRenderedBytes - this.spent - spent;
    return {
      get left() {
        return Math.min(maxRenderedBytes - spent, batch());
      },
      spend: (bytes) => {
        if (bytes > maxRenderedBytes - spent) {
          throw new RenderLimitError(
            `its references render more than ${maxRenderedBytes} bytes (maxRenderedBytes)`,
          );
        }
        if (bytes > batch()) {
          throw new RenderLimitError(
            `its references render more than ${maxBatchRenderedBytes} bytes in this batch (maxBatchRenderedBytes)`,
          );
        }
        spent += bytes;
      },
      commit: () => {
        this.spent += spent;
        spent = 0;
      },
    };
  }
}
