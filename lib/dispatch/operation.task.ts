/** Abandons work in flight: after it, the work calls neither of its callbacks. */
export type Abandon = () => void;

/**
 * Starts one piece of an operation's work (dispatching it, running it, waiting for a slot): the
 * work calls `done` with its one value or `fail` with an error, once, perhaps before the call
 * returns, and the function returned abandons it. A layer that calls another treats a throw from
 * the call as that work's `fail`. Every layer an operation passes through (the
 * dispatcher, the runner, the queue, the scheduler) takes and gives this shape rather than an
 * Observable: each layer is paid once per operation, and two nested Observables cost about five
 * times two nested callbacks (measured while writing this; see bench/README.md).
 */
export type StartWork<T> = (done: (value: T) => void, fail: (error: unknown) => void) => Abandon;

/** What work that has already ended returns: there is nothing left to abandon. */
export const NOTHING_TO_ABANDON: Abandon = () => undefined;

/** Work that is done as soon as it starts, with `value`. */
export function doneAtOnce<T>(value: T): StartWork<T> {
  return (done) => {
    done(value);
    return NOTHING_TO_ABANDON;
  };
}

/**
 * The one "ended" flag of work that can end in several ways (answered, failed, timed out,
 * abandoned) whose losing ways may still call back: the first to call {@link SettleOnce.end}
 * ends the work, every later caller, and every late callback that checks `ended`, does nothing.
 * Each layer of the `StartWork` protocol keeps one per operation.
 */
export class SettleOnce {
  private settled = false;

  /** Whether the work has ended. */
  get ended(): boolean {
    return this.settled;
  }

  /** Ends the work: true for the first caller only, which then settles it. */
  end(): boolean {
    if (this.settled) return false;
    this.settled = true;
    return true;
  }
}
