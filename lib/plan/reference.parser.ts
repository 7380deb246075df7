import { jsonpath, JSONPathError, type JSONPathQuery } from 'json-p3';
import { OPERATION_NAME_PATTERN } from '../batch.constants.js';
import type { Reference, Template } from './reference.interface.js';
import { isSupportedSelector } from './reference.query.js';

export type { Reference, ReferenceSink, Template } from './reference.interface.js';

/** The reference syntax is wrong; the message says where and why. */
export class ReferenceSyntaxError extends Error {}

/** A text holds more references than it may; thrown as soon as the count passes, so parsing stops. */
export class TooManyReferencesError extends Error {}

const OPEN = '{result=';
/** Default of the `maxReferencePathLength` option, for callers outside a batch plan. */
export const DEFAULT_MAX_PATH_LENGTH = 256;
const EXCERPT = 60;
/** The path of `{result=NAME:@location}`: the Location header of NAME's response. */
const LOCATION = '@location';
/** `{result=NAME:@status}`: the status code of NAME's response. */
const STATUS = '@status';
/** `{result=NAME:@header.etag}`: a header of NAME's response (a field name, RFC 9110 token). */
const HEADER = /^@header\.([!#$%&'*+.^_`|~0-9A-Za-z-]+)$/;
/**
 * Response headers no reference reads: cookies reach later operations through the batch's
 * cookie jar, never as text an operation could carry elsewhere.
 */
const UNREFERENCED_HEADERS: ReadonlySet<string> = new Set(['set-cookie', 'set-cookie2']);
const ROOT = jsonpath.compile('$');

/**
 * Cuts `text` into literals and references. Returns `undefined` when the text holds no reference,
 * so callers keep the original string untouched on the common path.
 * @param maxReferences past this many references, parsing stops with a TooManyReferencesError
 * (each one compiles a JSONPath, so a huge text of them costs before any cap could refuse it).
 */
export function parseTemplate(
  text: string,
  maxReferences = Infinity,
  maxPathLength = DEFAULT_MAX_PATH_LENGTH,
): Template | undefined {
  let at = text.indexOf(OPEN);
  if (at === -1) return undefined;
  const parts: (string | Reference)[] = [];
  let literalFrom = 0;
  let count = 0;
  while (at !== -1) {
    if (++count > maxReferences) throw new TooManyReferencesError();
    if (at > literalFrom) parts.push(text.slice(literalFrom, at));
    const reference = parseReference(text, at, maxPathLength);
    parts.push(reference);
    literalFrom = at + reference.text.length;
    at = text.indexOf(OPEN, literalFrom);
  }
  if (literalFrom < text.length) parts.push(text.slice(literalFrom));
  return parts;
}

/** The references a template holds, in order. */
export function referencesOf(template: Template): Reference[] {
  return template.filter((part): part is Reference => typeof part !== 'string');
}

function parseReference(text: string, start: number, maxPathLength: number): Reference {
  const nameFrom = start + OPEN.length;
  const colon = text.indexOf(':', nameFrom);
  const name = colon === -1 ? '' : text.slice(nameFrom, colon);
  if (!OPERATION_NAME_PATTERN.test(name)) {
    throw new ReferenceSyntaxError(
      `"${excerpt(text, start)}" is not a reference of the form {result=NAME:JSONPATH}`,
    );
  }
  const close = closingBrace(text, colon + 1);
  if (close === -1) {
    throw new ReferenceSyntaxError(`reference "${excerpt(text, start)}" has no closing "}"`);
  }
  const path = text.slice(colon + 1, close);
  const written = text.slice(start, close + 1);
  // Not a JSONPath (those start with `$`), so no reference that parsed before means this now.
  if (path === LOCATION) {
    return { name, text: written, query: ROOT, singular: true, source: 'location' };
  }
  if (path === STATUS)
    return { name, text: written, query: ROOT, singular: true, source: 'status' };
  if (path.startsWith('@')) {
    const header = HEADER.exec(path)?.[1]?.toLowerCase();
    if (header === undefined || path.length > maxPathLength) {
      throw new ReferenceSyntaxError(
        `reference "${excerpt(text, start)}" names no part of a response: @status, @location and @header.NAME are`,
      );
    }
    if (UNREFERENCED_HEADERS.has(header)) {
      throw new ReferenceSyntaxError(
        `reference "${written}" reads ${header}; cookies reach later operations through the batch's cookie jar`,
      );
    }
    return { name, text: written, query: ROOT, singular: true, source: 'header', header };
  }
  // Compiling costs in proportion to the path (about 0.5 s a MiB) and json-p3's parser recurses
  // on nesting: a path is held to a length no real reference comes near, before it is compiled.
  if (path.length > maxPathLength) {
    throw new ReferenceSyntaxError(
      `reference "${excerpt(text, start)}" has a JSONPath of ${path.length} characters, more than ${maxPathLength} (maxReferencePathLength)`,
    );
  }
  let query: JSONPathQuery;
  try {
    query = jsonpath.compile(path);
  } catch (error) {
    if (error instanceof RangeError) {
      throw new ReferenceSyntaxError(`reference "${excerpt(text, start)}" nests too deeply`);
    }
    if (!(error instanceof JSONPathError)) throw error;
    throw new ReferenceSyntaxError(
      `reference "${written}" has an invalid JSONPath: ${error.message}`,
    );
  }
  // Filters run an expression language (with regex functions) on the server: refused, so a
  // reference can only walk the referenced body.
  const hasFilter = query.segments.some((segment) =>
    segment.selectors.some((selector) => selector instanceof jsonpath.selectors.FilterSelector),
  );
  if (hasFilter) {
    throw new ReferenceSyntaxError(`reference "${written}" uses a filter; filters are not allowed`);
  }
  // Anything else json-p3 may learn to parse is refused until the library's own walk knows it.
  if (!query.segments.every((segment) => segment.selectors.every(isSupportedSelector))) {
    throw new ReferenceSyntaxError(`reference "${written}" uses a selector that is not supported`);
  }
  return { name, text: written, query, singular: query.singularQuery() };
}

/** Index of the `}` that ends a path, skipping brackets and quoted names (`$['a}b']`). */
function closingBrace(text: string, from: number): number {
  let quote: string | undefined;
  let depth = 0;
  for (let i = from; i < text.length; i++) {
    const char = text[i];
    if (quote !== undefined) {
      if (char === '\\') i++;
      else if (char === quote) quote = undefined;
    } else if (char === "'" || char === '"') quote = char;
    else if (char === '[') depth++;
    else if (char === ']') depth--;
    else if (char === '}' && depth <= 0) return i;
  }
  return -1;
}

function excerpt(text: string, from: number): string {
  const rest = text.slice(from);
  return rest.length > EXCERPT ? `${rest.slice(0, EXCERPT)}...` : rest;
}
