import { operationLabel } from '../validation/operation.label.js';
import { InvalidBatchException } from '../batch.exceptions.js';
import type { BatchOperation } from '../interfaces/batch-operation.interface.js';
import { unitGraph, type AtomicGroup, type UnitGraph } from './atomic-group.graph.js';
import { BodyTooDeepError, compileJson, type JsonTemplate } from './json.template.js';
import {
  parseTemplate,
  referencesOf,
  ReferenceSyntaxError,
  TooManyReferencesError,
  type Reference,
  type ReferenceSink,
  type Template,
} from './reference.parser.js';
import { findCycle } from './graph.cycle.js';

/** One operation, its references compiled and its dependencies resolved to indices. */
export interface PlannedOperation {
  readonly index: number;
  readonly operation: BatchOperation;
  /** How messages name it: `operation 3 ("create")`. */
  readonly label: string;
  /** Indices of the operations that must succeed first (from `dependsOn` and references). */
  readonly dependencies: readonly number[];
  /** The url with references, or `undefined` when it has none. */
  readonly url: Template | undefined;
  /** Header values with references; headers without any are read from `operation.headers`. */
  readonly headers: readonly (readonly [name: string, value: Template])[];
  /** The body with references, or `undefined` when it has none. */
  readonly body: JsonTemplate | undefined;
}

/** A batch ready to run: a validated dependency graph without cycles. */
export interface BatchPlan {
  readonly operations: readonly PlannedOperation[];
  /** For each operation, the indices of the operations that wait for it. */
  readonly dependents: readonly (readonly number[])[];
  /** Operation index by name. */
  readonly names: ReadonlyMap<string, number>;
  /** The atomic groups (`atomicityGroup`), in order of first appearance; often none. */
  readonly groups: readonly AtomicGroup[];
  /** The graph of units the scheduler runs when there are groups; `undefined` without any. */
  readonly units?: UnitGraph;
}

/** Caps the planner enforces. */
export interface PlanLimits {
  /** Most references the batch may hold, every occurrence counted (`maxReferences`). */
  readonly maxReferences: number;
  /** Longest JSONPath a reference may have (`maxReferencePathLength`). */
  readonly maxReferencePathLength?: number;
}

/**
 * Validates names, dependencies and references and orders the batch as a graph, in
 * O(operations + edges). Every problem found is reported at once; nothing runs if there is one.
 * A batch with too many references is refused as soon as the count passes the cap, before the
 * rest is compiled.
 * @throws InvalidBatchException
 */
export function planBatch(
  operations: readonly BatchOperation[],
  limits: PlanLimits = { maxReferences: Infinity },
  literalText = false,
): BatchPlan {
  try {
    return plan(operations, limits, literalText);
  } catch (error) {
    if (!(error instanceof TooManyReferencesError)) throw error;
    throw new InvalidBatchException([
      `the batch holds more than ${limits.maxReferences} references (maxReferences)`,
    ]);
  }
}

/** `literalText`: headers and bodies hold no references, only text (a multipart batch's). */
function plan(
  operations: readonly BatchOperation[],
  { maxReferences, maxReferencePathLength: maxPathLength }: PlanLimits,
  literalText: boolean,
): BatchPlan {
  const problems: string[] = [];
  let edges = 0;
  const names = new Map<string, number>();
  // The atomic groups, in order of first appearance; most batches have none, and no map made.
  let groups: ReadonlyMap<string, readonly number[]> = NO_GROUP_MAP;
  for (let index = 0; index < operations.length; index++) {
    const { name, atomicityGroup } = operations[index] as BatchOperation;
    if (name !== undefined) {
      const first = names.get(name);
      if (first === undefined) names.set(name, index);
      else problems.push(`operations ${first} and ${index} share the name "${name}"`);
    }
    if (atomicityGroup !== undefined) {
      if (groups === NO_GROUP_MAP) groups = new Map<string, number[]>();
      const members = groups.get(atomicityGroup) as number[] | undefined;
      if (members) members.push(index);
      else (groups as Map<string, number[]>).set(atomicityGroup, [index]);
    }
  }
  for (const name of groups.keys()) {
    // OData: a request id must not be the name of an atomicity group; `dependsOn` names either.
    if (names.has(name)) problems.push(`"${name}" names both an operation and an atomicity group`);
  }

  // One sink for the whole batch, its list emptied per operation: the planner runs once per
  // operation, and closures or accessors made per operation were a tenth of the executor's CPU.
  const sink = new CountingSink(maxReferences, maxPathLength);
  const planned = operations.map((operation, index): PlannedOperation => {
    // Most operations find none: the empty list is kept for the next one.
    if (sink.found.length > 0) sink.found = [];
    const { dependsOn, atomicityGroup: group } = operation;
    const written = literalText ? undefined : operation.headers;
    const url = compileTemplate(operation.url, sink, problems, operations, index, 'url');
    let headers: readonly (readonly [string, Template])[] | [string, Template][] = NO_HEADERS;
    for (const name in written) {
      const template = compileTemplate(
        written[name] as string,
        sink,
        problems,
        operations,
        index,
        `header "${name}"`,
      );
      if (template) {
        if (headers === NO_HEADERS) headers = [];
        (headers as [string, Template][]).push([name, template]);
      }
    }
    let body: JsonTemplate | undefined;
    if (operation.body !== undefined && !literalText) {
      try {
        body = compileJson(operation.body, sink);
      } catch (error) {
        if (!(error instanceof ReferenceSyntaxError || error instanceof BodyTooDeepError)) {
          throw error;
        }
        problems.push(`${label(operations, index)}: body: ${error.message}`);
      }
    }
    const references = sink.found;
    const dependencies =
      dependsOn === undefined && references.length === 0
        ? NO_DEPENDENCIES
        : dependenciesOf(operations, index, references, names, groups, problems);
    if (group !== undefined) {
      for (const dependency of dependencies) {
        if (dependency > index && operations[dependency]?.atomicityGroup === group) {
          problems.push(
            `${label(operations, index)} depends on the later ${label(operations, dependency)} of its atomicity group "${group}"; a group runs in request order`,
          );
        }
      }
    }
    edges += dependencies.length;
    return new Planned(
      index,
      operation,
      label(operations, index),
      dependencies,
      url,
      headers,
      body,
    );
  });

  if (problems.length > 0) throw new InvalidBatchException(problems);
  const dependents = invert(planned);
  // Without an edge there is no cycle to look for (most batches: independent reads).
  const cycle =
    edges === 0
      ? undefined
      : findCycle(
          planned.map((operation) => operation.dependencies),
          dependents,
        );
  if (cycle) {
    const path = [...cycle, cycle[0] ?? 0].map((index) => label(operations, index)).join(' -> ');
    throw new InvalidBatchException([`dependency cycle (each waits for the next): ${path}`]);
  }
  if (groups.size === 0) return new Plan(planned, dependents, names, NO_GROUPS);
  const atomic = [...groups].map(([name, members]) => ({ name, members }));
  const { graph, cycle: unitCycle } = unitGraph(planned, atomic);
  if (unitCycle) {
    const path = [...unitCycle, unitCycle[0] ?? 0]
      .map((unit) => {
        const group = graph.groups[unit];
        return group
          ? `atomicity group "${group.name}"`
          : label(operations, graph.units[unit]?.[0] ?? 0);
      })
      .join(' -> ');
    throw new InvalidBatchException([
      `dependency cycle through an atomic group, which runs as one (each waits for the next): ${path}`,
    ]);
  }
  return new Plan(planned, dependents, names, atomic, graph);
}

/*
 * The plan and its operations are instances of these classes, not object literals: V8 tracks
 * where a literal's objects are made and, as a plan lives through its batch's run, soon made
 * every one in the old generation (allocation-site pretenuring), where filling each was most of
 * the planner's time (0.3 µs of an operation's 7 in the request stage) and only a full
 * collection frees it. A class's objects are made in the young generation.
 */
class Plan implements BatchPlan {
  constructor(
    readonly operations: readonly PlannedOperation[],
    readonly dependents: readonly (readonly number[])[],
    readonly names: ReadonlyMap<string, number>,
    readonly groups: readonly AtomicGroup[],
    readonly units?: UnitGraph,
  ) {}
}

const NO_GROUPS: readonly AtomicGroup[] = Object.freeze([]);
/** The groups of every batch without any: never added to (the planner makes a map at the first). */
const NO_GROUP_MAP: ReadonlyMap<string, readonly number[]> = new Map();

class Planned implements PlannedOperation {
  constructor(
    readonly index: number,
    readonly operation: BatchOperation,
    readonly label: string,
    readonly dependencies: readonly number[],
    readonly url: Template | undefined,
    readonly headers: readonly (readonly [name: string, value: Template])[],
    readonly body: JsonTemplate | undefined,
  ) {}
}

/** Shared by every operation whose headers hold no reference: frozen, so none can add to it. */
const NO_HEADERS: readonly (readonly [string, Template])[] = Object.freeze([]);
const NO_DEPENDENCIES: readonly number[] = Object.freeze([]);

/** Counts every reference against the batch's cap and keeps the current operation's. */
class CountingSink implements ReferenceSink {
  found: Reference[] = [];

  constructor(
    public left: number,
    readonly maxPathLength: number | undefined,
  ) {}

  push(...references: Reference[]): number {
    this.left -= references.length;
    if (this.left < 0) throw new TooManyReferencesError();
    return this.found.push(...references);
  }
}

/** A url or header value compiled, or `undefined` (a problem noted) when it cannot be. */
function compileTemplate(
  text: string,
  sink: CountingSink,
  problems: string[],
  operations: readonly BatchOperation[],
  index: number,
  where: string,
): Template | undefined {
  let template: Template | undefined;
  try {
    template = parseTemplate(text, sink.left, sink.maxPathLength);
  } catch (error) {
    if (!(error instanceof ReferenceSyntaxError)) throw error;
    problems.push(`${label(operations, index)}: ${where}: ${error.message}`);
    return undefined;
  }
  if (template) sink.push(...referencesOf(template));
  return template;
}

/** The operations one must wait for, by `dependsOn` (an operation or a group) and references. */
function dependenciesOf(
  operations: readonly BatchOperation[],
  index: number,
  references: readonly Reference[],
  names: ReadonlyMap<string, number>,
  groups: ReadonlyMap<string, readonly number[]>,
  problems: string[],
): number[] {
  const operation = operations[index] as BatchOperation;
  const dependencies = new Set<number>();
  const depend = (name: string, how: string): void => {
    const members = how === 'depends on' ? groups.get(name) : undefined;
    if (members && !names.has(name)) {
      if (operation.atomicityGroup === name) {
        problems.push(`${label(operations, index)} depends on its own atomicity group "${name}"`);
      } else for (const member of members) dependencies.add(member);
      return;
    }
    const target = names.get(name);
    if (target === undefined) {
      problems.push(`${label(operations, index)} ${how} unknown operation "${name}"`);
    } else if (target === index) {
      problems.push(`${label(operations, index)} ${how} itself`);
    } else {
      dependencies.add(target);
    }
  };
  for (const name of operation.dependsOn ?? []) depend(name, 'depends on');
  for (const reference of references) depend(reference.name, 'refers to');
  return [...dependencies];
}

function invert(planned: readonly PlannedOperation[]): (readonly number[])[] {
  // Most operations have no dependent: they share one empty list, a list made at the first.
  const dependents: (readonly number[])[] = new Array<readonly number[]>(planned.length).fill(
    NO_DEPENDENCIES,
  );
  for (const { index, dependencies } of planned) {
    for (const dependency of dependencies) {
      const list = dependents[dependency];
      if (list === NO_DEPENDENCIES) dependents[dependency] = [index];
      else (list as number[] | undefined)?.push(index);
    }
  }
  return dependents;
}

function label(operations: readonly BatchOperation[], index: number): string {
  const name = operations[index]?.name;
  if (name !== undefined) return operationLabel(index, name);
  // Every batch names its unnamed operations alike: the labels are made once.
  while (UNNAMED.length <= index) UNNAMED.push(operationLabel(UNNAMED.length));
  return UNNAMED[index] as string;
}

/** `operation <index>`, by index, as batches have needed them. */
const UNNAMED: string[] = [];
