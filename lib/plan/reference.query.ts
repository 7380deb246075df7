import { jsonpath } from 'json-p3';
import type { Reference } from './reference.interface.js';
import { RenderLimitError } from './render.limits.js';

type JSONPathSegment = jsonpath.JSONPathSegment;
type JSONPathSelector = jsonpath.JSONPathSelector;

const { IndexSelector, NameSelector, SliceSelector, WildcardSelector } = jsonpath.selectors;

/** What evaluating references may spend: matches per reference, nodes visited per batch. */
export interface QueryBudget {
  readonly maxMatches: number;
  readonly maxNodes: number;
  /** Nodes the batch's evaluations may still visit; every evaluation takes from it. */
  nodesLeft: number;
}

/** True for the selectors {@link evaluateReference} knows: all RFC 9535 has but filters. */
export function isSupportedSelector(selector: JSONPathSelector): boolean {
  return (
    selector instanceof NameSelector ||
    selector instanceof IndexSelector ||
    selector instanceof SliceSelector ||
    selector instanceof WildcardSelector
  );
}

/**
 * The values a reference's path matches in `root`, in document order (RFC 9535). json-p3 parses
 * the path; this walks it, because json-p3's walk builds a node object with its location for
 * every node it passes, which took 0.4 s for a `$..id` over a 3.5 MB body. This walk keeps no
 * locations, uses no recursion (a deep body cannot overflow the stack) and stops at the caps:
 * every node it visits or selects is taken from `budget.nodesLeft`.
 * @throws RenderLimitError past `maxMatches` values or `nodesLeft` nodes.
 */
export function evaluateReference(
  reference: Reference,
  root: unknown,
  budget: QueryBudget,
): unknown[] {
  const segments = reference.query.segments;
  let nodes: unknown[] = [root];
  segments.forEach((segment, i) => {
    const last = i === segments.length - 1;
    const next: unknown[] = [];
    const take = (value: unknown): void => {
      if (--budget.nodesLeft < 0) throw tooManyNodes(reference, budget);
      next.push(value);
      if (last && next.length > budget.maxMatches) {
        throw new RenderLimitError(
          `reference ${reference.text} matches more than ${budget.maxMatches} values (maxReferenceMatches)`,
        );
      }
    };
    const selectors = segment.selectors.map(compileSelector);
    const select = (value: unknown): void => {
      for (const selector of selectors) selector(value, take);
    };
    for (const node of nodes) {
      if (isDescendant(segment)) walk(node, reference, budget, select);
      else select(node);
    }
    nodes = next;
  });
  return nodes;
}

/** json-p3 does not export the segment classes; a descendant segment writes itself `..[...]`. */
function isDescendant(segment: JSONPathSegment): boolean {
  return segment.toString().startsWith('..');
}

/**
 * Visits `root` and every value below it in document order, without recursion. Children are
 * taken one at a time from their container, so a huge array costs only as far as the budget goes.
 */
function walk(
  root: unknown,
  reference: Reference,
  budget: QueryBudget,
  visit: (value: unknown) => void,
): void {
  const containers: (readonly unknown[])[] = [];
  const next: number[] = [];
  let value = root;
  for (;;) {
    if (--budget.nodesLeft < 0) throw tooManyNodes(reference, budget);
    visit(value);
    const children = childrenOf(value);
    if (children.length > 0) {
      containers.push(children);
      next.push(0);
    }
    let depth = containers.length - 1;
    while (depth >= 0 && (next[depth] as number) >= (containers[depth] as unknown[]).length) {
      containers.pop();
      next.pop();
      depth--;
    }
    if (depth < 0) return;
    const index = next[depth] as number;
    next[depth] = index + 1;
    value = (containers[depth] as unknown[])[index];
  }
}

type Take = (value: unknown) => void;

/** A selector as a function, its kind decided once per evaluation rather than once per node. */
function compileSelector(selector: JSONPathSelector): (value: unknown, take: Take) => void {
  if (selector instanceof NameSelector) {
    const { name } = selector;
    // Own properties only: a path never reaches a prototype member such as `constructor`.
    return (value, take) => {
      if (isObject(value) && Object.hasOwn(value, name)) take(value[name]);
    };
  }
  if (selector instanceof IndexSelector) {
    const wanted = selector.index;
    return (value, take) => {
      if (!Array.isArray(value)) return;
      const index = wanted < 0 ? value.length + wanted : wanted;
      if (index >= 0 && index < value.length) take(value[index]);
    };
  }
  if (selector instanceof SliceSelector) {
    return (value, take) => {
      if (Array.isArray(value)) slice(value, selector, take);
    };
  }
  // The wildcard: the parser lets no other selector through.
  return (value, take) => {
    for (const child of childrenOf(value)) take(child);
  };
}

/** RFC 9535, 2.3.4.2.2: the slice's bounds normalised, then stepped through. */
function slice(
  array: readonly unknown[],
  { start, stop, step = 1 }: { start?: number; stop?: number; step?: number },
  take: Take,
): void {
  const length = array.length;
  if (step === 0 || length === 0) return;
  const normal = (index: number): number => (index >= 0 ? index : length + index);
  if (step > 0) {
    const lower = Math.min(Math.max(normal(start ?? 0), 0), length);
    const upper = Math.min(Math.max(normal(stop ?? length), 0), length);
    for (let i = lower; i < upper; i += step) take(array[i]);
  } else {
    const upper = Math.min(Math.max(normal(start ?? length - 1), -1), length - 1);
    const lower = Math.min(Math.max(stop === undefined ? -1 : normal(stop), -1), length - 1);
    for (let i = upper; i > lower; i += step) take(array[i]);
  }
}

function childrenOf(value: unknown): readonly unknown[] {
  if (Array.isArray(value)) return value;
  return isObject(value) ? Object.values(value) : [];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function tooManyNodes(reference: Reference, budget: QueryBudget): RenderLimitError {
  return new RenderLimitError(
    `reference ${reference.text} would visit more than ${budget.maxNodes} nodes of referenced responses in this batch (maxReferenceNodes)`,
  );
}
