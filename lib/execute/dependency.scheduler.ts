import { mergeMap, Observable, Subject } from 'rxjs';

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
 * `start` must emit exactly once and should not emit synchronously (a long chain would recurse).
 * Unsubscribing stops everything: nodes not yet started never start.
 */
export function scheduleGraph<R>(
  graph: Graph,
  start: (index: number, failedDependency: number | undefined) => Observable<R>,
  succeeded: (result: R) => boolean,
  concurrency: number,
): Observable<Completion<R>> {
  return new Observable<Completion<R>>((subscriber) => {
    const total = graph.dependencyCounts.length;
    if (total === 0) {
      subscriber.complete();
      return undefined;
    }
    const waiting = [...graph.dependencyCounts];
    const failedDependency: (number | undefined)[] = new Array<number | undefined>(total);
    const ready = new Subject<number>();
    let completed = 0;

    const subscription = ready
      .pipe(
        mergeMap(
          (index) => firstCompletion(index, start(index, failedDependency[index])),
          concurrency,
        ),
      )
      .subscribe({
        next: (completion) => {
          subscriber.next(completion);
          const ok = succeeded(completion.result);
          for (const dependent of graph.dependents[completion.index] ?? []) {
            if (failedDependency[dependent] !== undefined) continue; // already released
            if (!ok) {
              failedDependency[dependent] = completion.index;
              ready.next(dependent);
            } else {
              const left = (waiting[dependent] ?? 0) - 1;
              waiting[dependent] = left;
              if (left === 0) ready.next(dependent);
            }
          }
          if (++completed === total) subscriber.complete();
        },
        error: (error: unknown) => {
          subscriber.error(error);
        },
      });

    graph.dependencyCounts.forEach((count, index) => {
      if (count === 0) ready.next(index);
    });
    return subscription;
  });
}

/**
 * The first result of `source` as a completion, then done: `take(1)` and `map` in one
 * subscriber, because the scheduler pays for every layer once per node.
 */
function firstCompletion<R>(index: number, source: Observable<R>): Observable<Completion<R>> {
  return new Observable<Completion<R>>((subscriber) =>
    source.subscribe({
      next: (result) => {
        subscriber.next({ index, result });
        subscriber.complete();
      },
      error: (error: unknown) => subscriber.error(error),
      complete: () => subscriber.complete(),
    }),
  );
}
