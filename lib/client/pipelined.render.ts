import type { BatchOperation } from '../interfaces/batch-operation.interface.js';
import type { CallOutcome } from './pipelined.response.js';

/**
 * A reference of the shape the client writes for a pending call,
 * `{result=~<client>.<call>:<path>}`: the client's own only when `<client>` is its token.
 */
export const PIPELINED_REFERENCE = /\{result=(~[0-9a-z]+\.\d+):([^}]*)\}/g;

/** A reference that cannot be given a value: the referencing call answers 400, as in a batch. */
export class UnmatchedPipelinedReference extends Error {}

/** The names of the pipelined references an operation holds, in its url, headers and body. */
export function pipelinedNames(operation: BatchOperation): Set<string> {
  const names = new Set<string>();
  eachReference(operation, (name) => names.add(name));
  return names;
}

/** The names of the pending calls whose body an operation's pipelined references read. */
export function pipelinedBodyNames(operation: BatchOperation): Set<string> {
  const names = new Set<string>();
  eachReference(operation, (name, path) => path.startsWith('$') && names.add(name));
  return names;
}

function eachReference(operation: BatchOperation, visit: (name: string, path: string) => void) {
  const scan = (text: string): void => {
    for (const [, name = '', path = ''] of text.matchAll(PIPELINED_REFERENCE)) visit(name, path);
  };
  scan(operation.url);
  for (const value of Object.values(operation.headers ?? {})) scan(value);
  walkStrings(operation.body, scan);
}

/**
 * The operation with each pipelined reference replaced by its value, as the server renders
 * references: URL-encoded in the url (a Location as a path), as text in headers, and with its
 * JSON type where a body string is exactly one reference.
 * @throws UnmatchedPipelinedReference
 */
export function renderPipelined(
  operation: BatchOperation,
  outcomes: ReadonlyMap<string, CallOutcome>,
): BatchOperation {
  const value = (name: string, path: string): unknown => valueOf(outcomes.get(name), path);
  // Only the references of `outcomes`: the rest is the page's text, left as written.
  const text = (template: string, encode: (value: string, path: string) => string): string =>
    template.replace(PIPELINED_REFERENCE, (reference, name: string, path: string) =>
      outcomes.has(name) ? encode(textOf(value(name, path)), path) : reference,
    );
  const rendered: BatchOperation = {
    ...operation,
    url: text(operation.url, (v, path) => (path === '@location' ? v : encodeURIComponent(v))),
  };
  if (operation.headers) {
    rendered.headers = Object.fromEntries(
      Object.entries(operation.headers).map(([name, v]) => [name, text(v, (t) => t)]),
    );
  }
  if (operation.body !== undefined) {
    rendered.body = mapStrings(operation.body, (s) => {
      const whole = new RegExp(`^${PIPELINED_REFERENCE.source}$`).exec(s);
      return whole && outcomes.has(whole[1] ?? '')
        ? value(whole[1] ?? '', whole[2] ?? '')
        : text(s, (t) => t);
    });
  }
  return rendered;
}

function valueOf(outcome: CallOutcome | undefined, path: string): unknown {
  if (outcome === undefined) throw new UnmatchedPipelinedReference(`no outcome for ${path}`);
  if (path === '@status') return outcome.status;
  if (path === '@location') {
    const location = outcome.headers.location;
    if (typeof location !== 'string') throw unmatched(path);
    const url = new URL(location, 'http://location.invalid');
    return `${url.pathname}${url.search}`.replace(/^\/+/, '');
  }
  if (path.startsWith('@header.')) {
    const header = outcome.headers[path.slice('@header.'.length).toLowerCase()];
    if (header === undefined) throw unmatched(path);
    return typeof header === 'string' ? header : header.join(', ');
  }
  let current: unknown = outcome.body;
  for (const step of pathSteps(path)) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, step)) {
      throw unmatched(path);
    }
    current = (current as Record<string, unknown>)[step];
  }
  return current;
}

/**
 * The members a singular JSONPath walks: `$.a`, `$['a']`, `$[0]`. Anything else is refused
 * when the reference is made ({@link isPipelinedPath}), so this never sees it.
 */
function pathSteps(path: string): string[] {
  const steps: string[] = [];
  for (const [, dotted, quoted, index] of path.slice(1).matchAll(STEP)) {
    steps.push(dotted ?? quoted?.replace(/\\(.)/g, '$1') ?? index ?? '');
  }
  return steps;
}

const STEP = /\.([A-Za-z_][\w-]*)|\['((?:[^'\\]|\\.)*)'\]|\[(\d+)\]/g;
const SINGULAR_PATH = /^\$(?:\.[A-Za-z_][\w-]*|\['(?:[^'\\}]|\\.)*'\]|\[\d+\])*$/;

/** Whether the client can evaluate a path itself, for a call that left in an earlier batch. */
export function isPipelinedPath(path: string): boolean {
  return SINGULAR_PATH.test(path);
}

function unmatched(path: string): UnmatchedPipelinedReference {
  return new UnmatchedPipelinedReference(`matched nothing at ${path}`);
}

function textOf(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function walkStrings(value: unknown, visit: (text: string) => void): void {
  if (typeof value === 'string') visit(value);
  else if (Array.isArray(value)) for (const item of value) walkStrings(item, visit);
  else if (value !== null && typeof value === 'object') {
    for (const item of Object.values(value)) walkStrings(item, visit);
  }
}

function mapStrings(value: unknown, map: (text: string) => unknown): unknown {
  if (typeof value === 'string') return map(value);
  if (Array.isArray(value)) return value.map((item) => mapStrings(item, map));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, mapStrings(item, map)]),
    );
  }
  return value;
}
