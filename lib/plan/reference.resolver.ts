import type { JsonTemplate } from './json.template.js';
import type { Reference, Template } from './reference.parser.js';

/** Gives the values a reference matches in the referenced operation's response body. */
export type ReferenceLookup = (reference: Reference) => readonly unknown[];

/** A reference matched nothing; the operation holding it cannot run. */
export class UnmatchedReferenceError extends Error {
  constructor(readonly reference: Reference) {
    super(`reference ${reference.text} matched nothing in the response of "${reference.name}"`);
  }
}

/**
 * Renders a template to a string. Several matches are joined with commas (Facebook's rule);
 * `encode` is applied to each value, e.g. `encodeURIComponent` in a url.
 */
export function renderTemplate(
  template: Template,
  lookup: ReferenceLookup,
  encode: (text: string) => string = (text) => text,
): string {
  let out = '';
  for (const part of template) {
    out +=
      typeof part === 'string'
        ? part
        : matches(part, lookup)
            .map((value) => encode(textOf(value)))
            .join(',');
  }
  return out;
}

/**
 * Renders a compiled JSON body. A string that is exactly one reference takes the matched value
 * with its JSON type: the value itself for a singular path, an array of matches otherwise.
 */
export function renderJson(template: JsonTemplate, lookup: ReferenceLookup): unknown {
  switch (template.kind) {
    case 'value':
      return template.value;
    case 'string': {
      const [only] = template.template;
      if (template.template.length === 1 && only !== undefined && typeof only !== 'string') {
        const values = matches(only, lookup);
        return only.singular ? values[0] : values;
      }
      return renderTemplate(template.template, lookup);
    }
    case 'array':
      return template.items.map((item) => renderJson(item, lookup));
    case 'object':
      // fromEntries defines own properties, so a "__proto__" key stays a key, never a prototype.
      return Object.fromEntries(
        template.entries.map(([key, item]) => [key, renderJson(item, lookup)]),
      );
  }
}

function matches(reference: Reference, lookup: ReferenceLookup): readonly unknown[] {
  const values = lookup(reference);
  if (values.length === 0) throw new UnmatchedReferenceError(reference);
  return values;
}

function textOf(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
