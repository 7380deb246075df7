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
