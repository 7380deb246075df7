import {
  parseTemplate,
  referencesOf,
  type ReferenceSink,
  type Template,
} from './reference.parser.js';

/**
 * A JSON body with references compiled out. Parts without references are kept by identity and
 * never copied.
 */
export type JsonTemplate =
  | { readonly kind: 'value'; readonly value: unknown }
  | { readonly kind: 'string'; readonly template: Template }
  | { readonly kind: 'array'; readonly items: readonly JsonTemplate[] }
  | { readonly kind: 'object'; readonly entries: readonly (readonly [string, JsonTemplate])[] };

/** Deepest body nesting accepted; deeper input would overflow the stack of any recursive walk. */
export const MAX_BODY_DEPTH = 256;

/** The body nests deeper than {@link MAX_BODY_DEPTH}. */
export class BodyTooDeepError extends Error {}

/**
 * Compiles a JSON value, collecting every reference it holds. Returns `undefined` when there are
 * none, so the body is sent exactly as received.
 */
export function compileJson(
  value: unknown,
  references: ReferenceSink,
  depth = 0,
): JsonTemplate | undefined {
  if (depth > MAX_BODY_DEPTH) {
    throw new BodyTooDeepError(`body is nested deeper than ${MAX_BODY_DEPTH} levels`);
  }
  if (typeof value === 'string') {
    const template = parseTemplate(value, references.left, references.maxPathLength);
    if (template === undefined) return undefined;
    references.push(...referencesOf(template));
    return { kind: 'string', template };
  }
  if (Array.isArray(value)) {
    const items = value.map((item: unknown) => compileJson(item, references, depth + 1));
    if (items.every((item) => item === undefined)) return undefined;
    return {
      kind: 'array',
      items: items.map((item, i) => item ?? { kind: 'value', value: value[i] }),
    };
  }
  // Bytes (a binary body of another format) hold no references: never walked byte by byte.
  if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value)) {
    const entries: [string, JsonTemplate][] = [];
    let found = false;
    for (const [key, item] of Object.entries(value)) {
      const compiled = compileJson(item, references, depth + 1);
      if (compiled) found = true;
      entries.push([key, compiled ?? { kind: 'value', value: item }]);
    }
    return found ? { kind: 'object', entries } : undefined;
  }
  return undefined;
}
