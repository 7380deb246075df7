import {
  NOTHING_TO_ABANDON,
  type Abandon,
  type StartStream,
  type StartWork,
} from '../dispatch/operation.task.js';

/** One node of the graph, finished. */
export interface Completion<R> {
  readonly index: number;
  readonly result: R;
}

/** The graph to run: for each node, the nodes waiting for it and how many it waits for. */
export interface Graph {
  readonly dependents: readonly (readonly number[])[];
  readonly dependencyCounts: readonly number[];
}

/**
 * Runs every node of a dependency graph once, emitting each as it completes. A node starts as
 * soon as its own dependencies have completed (not in waves), at most `concurrency` at a time.
 * When a dependency fails, the dependent starts at once with `failedDependency` set, so the
 * caller can answer for it without running it; failures travel down the chain that way.
 *
 * Nodes start on a later turn of the event loop than the one that made them ready, all the nodes
 * ready by then together: timers and I/O run between turns however many nodes answer
 * synchronously, and a chain never recurses, for the cost of one `setImmediate` per turn rather
 * than one per node. Abandoning stops everything: running nodes are abandoned, nodes not yet
 * started never start.
 *
 * Plain callbacks and counters, not a Subject and `mergeMap`, nodes as `StartWork` and the
 * completions as a `StartStream` rather than Observables: every layer here was paid once per
 * operation, and the benchmark's profile showed it.
 */
export function scheduleGraph<R>(
  graph: Graph,
  start: (index: number, failedDependency: number | undefined) => StartWork<R>,
  succeeded: (result: R) => boolean,
  concurrency: number,
  /**
   * Most nodes started per turn. A consumer that applies back-pressure in `start` (a streamed
   * reply) sets 1: each node then starts after what the nodes before it wrote was pushed, as it
   * decides whether to hold the next one back.
   */
  perTurn = Infinity,
  /**
   * Each node's place in request order, for a batch run one node at a time in that order: the
   * ready node placed first starts first, rather than the one ready first. With
   * `concurrency` 1 and dependencies only on earlier nodes, every node then starts once the one
   * before it has finished, whether it succeeded or not. Undefined: first ready, first started.
   */
  placeOf?: (node: number) => number,
): StartStream<Completion<R>> {
  return (subscriber) => {
    const total = graph.dependencyCounts.length;
    if (total === 0) {
      subscriber.complete();
      return NOTHING_TO_ABANDON;
    }
    const waiting = [...graph.dependencyCounts];
    const failedDependency: (number | undefined)[] = new Array<number | undefined>(total);
    /** Ready nodes not started yet, oldest first, from `head` on. */
    const ready: number[] = [];
    let head = 0;
    /** How to abandon each running node, by index (a list, not a set: no hashing per node). */
    const running: (Abandon | undefined)[] = new Array<Abandon | undefined>(total);
    let active = 0;
    let completed = 0;
    let stopped = false;
    let turn: ReturnType<typeof setImmediate> | undefined;

    const stop = (): void => {
      stopped = true;
      if (turn) clearImmediate(turn);
      turn = undefined;
      for (let index = 0; index < total; index++) {
        const abandon = running[index];
        if (abandon === undefined) continue;
        running[index] = undefined;
        abandon();
      }
    };
    /** Ends the run with `error`, once: after the end, the sink hears nothing more. */
    const fail = (error: unknown): void => {
      if (stopped) return;
      stop();
      subscriber.error(error);
    };
    const schedule = (): void => {
      if (!turn && !stopped && head < ready.length && active < concurrency) {
        turn = setImmediate(drain);
      }
    };
    const drain = (): void => {
      turn = undefined;
      // Only the nodes ready before this turn: those that become ready during it wait for the
      // next, so a chain that answers synchronously still yields to timers and I/O.
      if (placeOf) inPlaceOrder(ready, head, placeOf);
      const end = Math.min(ready.length, head + perTurn);
      while (!stopped && active < concurrency && head < end) launch(ready[head++] as number);
      if (head === ready.length) ready.length = head = 0;
      else schedule();
    };
    const finish = (index: number, result: R): void => {
      subscriber.next({ index, result });
      if (stopped) return;
      const ok = succeeded(result);
      for (const dependent of graph.dependents[index] ?? []) {
        if (failedDependency[dependent] !== undefined) continue; // already released
        if (!ok) {
          failedDependency[dependent] = index;
          ready.push(dependent);
        } else {
          const left = (waiting[dependent] ?? 0) - 1;
          waiting[dependent] = left;
          if (left === 0) ready.push(dependent);
        }
      }
      if (++completed === total) {
        stop();
        subscriber.complete();
      }
    };
    /** A node started is no longer running: its slot is free. */
    const settle = (index: number): void => {
      active--;
      running[index] = undefined;
    };
    const launch = (index: number): void => {
      active++;
      // Its first answer counts, once: a flag in the callbacks' scope, not one more object (a
      // boolean, not narrowed to `false`: the callbacks set it, perhaps before `start` returns).
      let ended = false as boolean;
      let abandon: Abandon;
      try {
        abandon = start(index, failedDependency[index])(
          (result) => {
            if (ended) return;
            ended = true;
            if (stopped) return;
            settle(index);
            finish(index, result);
            schedule();
          },
          (error: unknown) => {
            if (ended) return;
            ended = true;
            settle(index);
            fail(error);
          },
        );
      } catch (error) {
        if (!ended) {
          ended = true;
          settle(index);
        }
        fail(error);
        return;
      }
      if (!ended) running[index] = abandon;
    };

    graph.dependencyCounts.forEach((count, index) => {
      if (count === 0) ready.push(index);
    });
    schedule();
    return stop;
  };
}

/** Sorts the ready nodes not started yet (from `head` on) by their place in request order. */
function inPlaceOrder(ready: number[], head: number, placeOf: (node: number) => number): void {
  const waiting = ready.splice(head).sort((a, b) => placeOf(a) - placeOf(b));
  ready.push(...waiting);
}
