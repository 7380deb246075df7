import type { JsonTemplate } from '../plan/json.template.js';
import type { Reference, Template } from '../plan/reference.parser.js';
import type { RenderBudget } from '../plan/render.limits.js';

/**
 * What a reference matched, with the sizes of what it renders to. The batch evaluates each
 * distinct reference once and hands out the same match wherever it appears, so sizes are
 * measured once too.
 */
export interface ReferenceMatch {
  /** The matched values, in document order; never empty. */
  readonly values: readonly unknown[];
  /**
   * Bytes of the JSON text the match puts into a body (the value of a singular path, an array
   * of the values otherwise), or some number above `limit` once it passes it.
   */
  bodyBytes(limit: number): number;
  /** Bytes of the text the match puts into a string (the values joined by commas), likewise. */
  textBytes(limit: number): number;
}

/**
 * Gives what a reference matches in the referenced operation's response body.
 * @throws UnmatchedReferenceError, RenderLimitError
 */
export type ReferenceLookup = (reference: Reference) => ReferenceMatch;

/** A reference matched nothing; the operation holding it cannot run. */
export class UnmatchedReferenceError extends Error {
  constructor(readonly reference: Reference) {
    super(`reference ${reference.text} matched nothing in the response of "${reference.name}"`);
  }
}

/**
 * Renders a template to a string. Several matches are joined with commas (Facebook's rule);
 * `encode` is applied to each value, e.g. `encodeURIComponent` in a url. Each substitution is
 * paid from `budget` before its text is made.
 * @throws RenderLimitError
 */
export function renderTemplate(
  template: Template,
  lookup: ReferenceLookup,
  budget: RenderBudget,
  encode: (text: string, reference: Reference) => string = (text) => text,
): string {
  let out = '';
  for (const part of template) {
    if (typeof part === 'string') {
      out += part;
      continue;
    }
    const match = lookup(part);
    budget.spend(match.textBytes(budget.left));
    out += match.values.map((value) => encode(textOf(value), part)).join(',');
  }
  return out;
}

/**
 * Renders a compiled JSON body. A string that is exactly one reference takes the matched value
 * with its JSON type: the value itself for a singular path, an array of matches otherwise. Values
 * are inserted by identity, never copied; each insertion is paid from `budget` by its JSON size,
 * so the body written later is bounded before anything is written.
 * @throws RenderLimitError
 */
export function renderJson(
  template: JsonTemplate,
  lookup: ReferenceLookup,
  budget: RenderBudget,
): unknown {
  switch (template.kind) {
    case 'value':
      return template.value;
    case 'string': {
      const [only] = template.template;
      if (template.template.length === 1 && only !== undefined && typeof only !== 'string') {
        const match = lookup(only);
        budget.spend(match.bodyBytes(budget.left));
        return only.singular ? match.values[0] : match.values;
      }
      return renderTemplate(template.template, lookup, budget);
    }
    case 'array':
      return template.items.map((item) => renderJson(item, lookup, budget));
    case 'object':
      // fromEntries defines own properties, so a "__proto__" key stays a key, never a prototype.
      return Object.fromEntries(
        template.entries.map(([key, item]) => [key, renderJson(item, lookup, budget)]),
      );
  }
}

function textOf(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
