import { findCycle } from './graph.cycle.js';

/** One atomic group of a batch: its name and its operations' indices, in request order. */
export interface AtomicGroup {
  readonly name: string;
  readonly members: readonly number[];
}

/**
 * What the scheduler runs when a batch holds atomic groups: each group is one unit (its members
 * run in order, in one transaction, and finish together), every other operation a unit of its
 * own. A unit waits for the units holding its members' dependencies outside it.
 */
export interface UnitGraph {
  /** Each unit's operation indices: one for an operation, the members for a group. */
  readonly units: readonly (readonly number[])[];
  /** The group of each unit, `undefined` for an operation of its own. */
  readonly groups: readonly (AtomicGroup | undefined)[];
  readonly dependents: readonly (readonly number[])[];
  readonly dependencyCounts: readonly number[];
  /** For each unit, the units it waits for. */
  readonly dependencies: readonly (readonly number[])[];
}

/**
 * The unit graph of a planned batch with groups. Operation dependencies inside a group are
 * kept by its order (the planner has refused one on a later member); the others become unit
 * dependencies. Returns the units and, when the units wait for each other in a loop (an
 * operation outside a group between two of its members: the group would wait for itself), the
 * loop, as unit indices.
 */
export function unitGraph(
  planned: readonly { readonly index: number; readonly dependencies: readonly number[] }[],
  groups: readonly AtomicGroup[],
): { graph: UnitGraph; cycle?: readonly number[] } {
  const unitOf: number[] = planned.map(() => -1);
  const units: (readonly number[])[] = [];
  const unitGroups: (AtomicGroup | undefined)[] = [];
  for (const group of groups) {
    for (const member of group.members) unitOf[member] = units.length;
    units.push(group.members);
    unitGroups.push(group);
  }
  planned.forEach(({ index }) => {
    if (unitOf[index] !== -1) return;
    unitOf[index] = units.length;
    units.push([index]);
    unitGroups.push(undefined);
  });
  const dependencies = units.map((members, unit) => {
    const waits = new Set<number>();
    for (const member of members) {
      for (const dependency of planned[member]?.dependencies ?? []) {
        const other = unitOf[dependency] ?? -1;
        if (other !== unit && other !== -1) waits.add(other);
      }
    }
    return [...waits];
  });
  const dependents = units.map((): number[] => []);
  dependencies.forEach((waits, unit) => {
    for (const other of waits) dependents[other]?.push(unit);
  });
  const graph: UnitGraph = {
    units,
    groups: unitGroups,
    dependents,
    dependencyCounts: dependencies.map((waits) => waits.length),
    dependencies,
  };
  return { graph, cycle: findCycle(dependencies, dependents) };
}
