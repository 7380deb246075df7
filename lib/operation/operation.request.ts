import {
  headerBlockBytes,
  headerValueProblem,
  MAX_OPERATION_HEADER_BYTES,
} from '../validation/header.rules.js';
import { urlProblem } from '../validation/url.rules.js';
import type { DispatchRequest } from '../dispatch/operation.dispatcher.js';
import type { ParentContext } from '../dispatch/parent.context.js';
import { encodeRequestBody } from './request-body.encoder.js';
import type { PlannedOperation } from '../plan/batch.planner.js';
import { renderJson, renderTemplate, type ReferenceLookup } from './reference.resolver.js';
import type { Reference } from '../plan/reference.parser.js';
import type { RenderBudget } from '../plan/render.limits.js';

/** A referenced value made the url or a header into one that an ordinary request could not carry. */
export class InvalidRenderedRequestError extends Error {}

/**
 * Turns a planned operation into the request the app receives: references substituted, the
 * batch request's inherited headers under the operation's own, the body encoded. Every
 * substitution is paid from `budget` before it is made.
 * @throws UnmatchedReferenceError, InvalidRenderedRequestError, RenderLimitError
 */
export function buildRequest(
  planned: PlannedOperation,
  lookup: ReferenceLookup,
  budget: RenderBudget,
  parent: ParentContext,
): DispatchRequest {
  const { operation } = planned;
  let url = operation.url;
  if (planned.url) {
    url = renderTemplate(planned.url, lookup, budget, encodeUrlValue);
    const problem = urlProblem(url);
    if (problem) {
      throw new InvalidRenderedRequestError(
        `url "${url}" ${problem} after its references were substituted`,
      );
    }
  }
  // The operation's own headers are lower case already (operation.rules.ts); they win over
  // the inherited ones.
  const headers: Record<string, string> = { ...parent.headers, ...operation.headers };
  // The operation's own headers, as rendered once references filled them in.
  let own = operation.headers;
  if (planned.headers.length > 0) {
    const rendered: Record<string, string> = { ...operation.headers };
    own = rendered;
    const headerBudget = withinHeaderCap(budget);
    for (const [name, template] of planned.headers) {
      const value = renderTemplate(template, lookup, headerBudget);
      const problem = headerValueProblem(value);
      if (problem) {
        throw new InvalidRenderedRequestError(
          `header "${name}" ${problem}, after its references were substituted`,
        );
      }
      rendered[name] = headers[name] = value;
    }
    // The decoder held the headers as written to this cap; rendered, they are held to it again.
    if (headerBlockBytes(rendered) > MAX_OPERATION_HEADER_BYTES) throw headersTooLarge();
  }
  const limit = parent.connection.headerLimit ?? MAX_OPERATION_HEADER_BYTES;
  if (overCap(parent, own ?? NO_HEADERS, headers, operation.method.length + url.length, limit)) {
    throw new InvalidRenderedRequestError(
      `its request line and headers take more than ${limit} bytes with the headers it inherits from the batch request, more than a request of its own may carry on this connection`,
    );
  }
  const body = planned.body ? renderJson(planned.body, lookup, budget) : operation.body;
  const encoded = encodeRequestBody(body, headers['content-type']);
  if (encoded) {
    headers['content-type'] = encoded.contentType;
    headers['content-length'] = String(encoded.bytes.length);
  } else if (EMPTY_BODY_DECLARED.has(operation.method)) {
    headers['content-length'] = '0';
  }
  return {
    method: operation.method,
    url,
    headers,
    body: encoded?.bytes,
    info:
      operation.name === undefined
        ? { index: planned.index }
        : { index: planned.index, name: operation.name },
  };
}

/** The bytes of each batch's inherited headers, counted at its first operation. */
const inheritedBytes = new WeakMap<object, number>();
const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});
/** A request line's bytes beside its method and target: two spaces, `HTTP/1.1`, CRLF. */
const REQUEST_LINE_FRAME = 12;

/**
 * Whether the operation's request line and headers, with the headers it inherits, take more
 * than a request of its own may carry on the batch's connection (`limit`): the batch request's
 * own head fit, and each operation's own headers were held to the cap as written, but together
 * they may not. Counted in full only when the parts side by side pass the limit (an operation's
 * own header replaces an inherited one).
 */
function overCap(
  parent: ParentContext,
  own: Readonly<Record<string, string>>,
  headers: Readonly<Record<string, string>>,
  line: number,
  limit: number,
): boolean {
  let inherited = inheritedBytes.get(parent.headers);
  if (inherited === undefined) {
    inherited = headerBlockBytes(parent.headers);
    inheritedBytes.set(parent.headers, inherited);
  }
  const framed = line + REQUEST_LINE_FRAME;
  return (
    framed + inherited + headerBlockBytes(own) > limit && framed + headerBlockBytes(headers) > limit
  );
}

/**
 * Methods a client sends without a body as `Content-Length: 0`: fetch (undici), Node's http and
 * Python's requests all do, and body parsers read it as an empty body (Express's JSON parser
 * gives `{}`), where a request with no length at all has no body (`@Body()` undefined).
 */
const EMPTY_BODY_DECLARED: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH']);

/**
 * The operation's budget, further held to the header cap for what references put into headers,
 * so no header bigger than a request could carry is ever built.
 */
function withinHeaderCap(budget: RenderBudget): RenderBudget {
  let left = MAX_OPERATION_HEADER_BYTES;
  return {
    get left() {
      return Math.min(left, budget.left);
    },
    spend(bytes) {
      if (bytes > left) throw headersTooLarge();
      budget.spend(bytes);
      left -= bytes;
    },
  };
}

function headersTooLarge(): InvalidRenderedRequestError {
  return new InvalidRenderedRequestError(
    `headers take more than ${MAX_OPERATION_HEADER_BYTES} bytes after their references were substituted, more than a request of its own may carry (--max-http-header-size)`,
  );
}

/** encodeURIComponent, which throws on a lone surrogate: a value no url can carry. */
function encodeUrlValue(text: string, reference: Reference): string {
  // A Location is a path already (checked with the whole url once rendered): kept as a path.
  if (reference.source === 'location') return text;
  try {
    return encodeURIComponent(text);
  } catch {
    throw new InvalidRenderedRequestError(
      'a value referenced in the url is not well-formed Unicode (a lone surrogate)',
    );
  }
}
