import { Observable } from 'rxjs';

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

/**
 * Where work that gives many values sends them: each value, then one end (`complete` or
 * `error`), and nothing after the end. A sink does not throw: what goes wrong in it is its own to
 * handle (the collector fails the batch). An rxjs `Subscriber` is one.
 */
export interface StreamSink<T> {
  next(value: T): void;
  error(error: unknown): void;
  complete(): void;
}

/**
 * Starts work that gives many values, {@link StartWork}'s shape for a stream: the work sends
 * them to `sink`, perhaps some before the call returns, and the function returned abandons it
 * (after it, the sink hears nothing more). A throw from the call is the work's `error`. The
 * batch's outcomes travel from the scheduler through the bounds to the collector this way, as
 * plain calls: an Observable between each two layers was three Subscribers per answer.
 */
export type StartStream<T> = (sink: StreamSink<T>) => Abandon;

/** `start` as an Observable: each subscription starts it once; unsubscribing abandons it. */
export function observableOf<T>(start: StartStream<T>): Observable<T> {
  return new Observable<T>((subscriber) => start(subscriber));
}

/** An Observable as a {@link StartStream}: starting subscribes, abandoning unsubscribes. */
export function streamOf<T>(observable: Observable<T>): StartStream<T> {
  return (sink) => {
    const subscription = observable.subscribe(sink);
    return () => subscription.unsubscribe();
  };
}

/**
 * Each value of `start` as `project` makes it. A throw from `project` is the stream's error: the
 * work is abandoned and the sink told, as rxjs's `map` does.
 */
export function mapStream<T, U>(start: StartStream<T>, project: (value: T) => U): StartStream<U> {
  return (sink) => {
    const stream = new SettleOnce();
    let abandon: Abandon = NOTHING_TO_ABANDON;
    abandon = start({
      next: (value) => {
        if (stream.ended) return;
        let projected: U;
        try {
          projected = project(value);
        } catch (error) {
          stream.end();
          sink.error(error);
          abandon();
          return;
        }
        sink.next(projected);
      },
      error: (error) => {
        if (stream.end()) sink.error(error);
      },
      complete: () => {
        if (stream.end()) sink.complete();
      },
    });
    // Failed while starting: what `start` returned is the only way to abandon it.
    if (stream.ended) abandon();
    return () => {
      if (stream.end()) abandon();
    };
  };
}
