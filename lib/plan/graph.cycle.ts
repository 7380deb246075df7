/**
 * Kahn's algorithm on a graph given as each node's dependencies and dependents (node indices).
 * When some nodes never become free, walks their dependencies until one repeats and returns that
 * loop, so a message can name what forms it; `undefined` when there is none. Shared by the plan
 * of operations and the plan of atomic groups' units.
 */
export function findCycle(
  dependencies: readonly (readonly number[])[],
  dependents: readonly (readonly number[])[],
): number[] | undefined {
  const waiting = dependencies.map((waits) => waits.length);
  const free = waiting.flatMap((count, node) => (count === 0 ? [node] : []));
  let settled = 0;
  for (let next = free.pop(); next !== undefined; next = free.pop()) {
    settled++;
    for (const dependent of dependents[next] ?? []) {
      const left = (waiting[dependent] ?? 0) - 1;
      waiting[dependent] = left;
      if (left === 0) free.push(dependent);
    }
  }
  if (settled === waiting.length) return undefined;

  const stuck = (node: number): boolean => (waiting[node] ?? 0) > 0;
  const seenAt = new Map<number, number>();
  const walk: number[] = [];
  let at = waiting.findIndex((left) => left > 0);
  while (!seenAt.has(at)) {
    seenAt.set(at, walk.length);
    walk.push(at);
    // Every stuck node has at least one stuck dependency, so the walk cannot end.
    at = dependencies[at]?.find(stuck) ?? at;
  }
  return walk.slice(seenAt.get(at));
}
