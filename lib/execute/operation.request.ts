import { headerValueProblem } from '../operation/header.rules.js';
import { urlProblem } from '../operation/url.rules.js';
import type { DispatchRequest } from '../dispatch/operation.dispatcher.js';
import type { ParentContext } from '../dispatch/parent.context.js';
import { encodeRequestBody } from '../dispatch/request.body.js';
import type { PlannedOperation } from '../plan/batch.planner.js';
import { renderJson, renderTemplate, type ReferenceLookup } from '../plan/reference.resolver.js';

/** A referenced value made the url or a header into one that an ordinary request could not carry. */
export class InvalidRenderedRequestError extends Error {}

/**
 * Turns a planned operation into the request the app receives: references substituted, the
 * batch request's inherited headers under the operation's own, the body encoded.
 * @throws UnmatchedReferenceError, InvalidRenderedRequestError
 */
export function buildRequest(
  planned: PlannedOperation,
  lookup: ReferenceLookup,
  parent: ParentContext,
): DispatchRequest {
  const { operation } = planned;
  let url = operation.url;
  if (planned.url) {
    url = renderTemplate(planned.url, lookup, encodeURIComponent);
    const problem = urlProblem(url);
    if (problem) {
      throw new InvalidRenderedRequestError(
        `url "${url}" ${problem} after its references were substituted`,
      );
    }
  }
  const headers: Record<string, string> = { ...parent.headers };
  for (const [name, value] of Object.entries(operation.headers ?? {})) {
    headers[name.toLowerCase()] = value;
  }
  for (const [name, template] of planned.headers) {
    const value = renderTemplate(template, lookup);
    const problem = headerValueProblem(value);
    if (problem) {
      throw new InvalidRenderedRequestError(
        `header "${name}" ${problem}, after its references were substituted`,
      );
    }
    headers[name.toLowerCase()] = value;
  }
  const body = planned.body ? renderJson(planned.body, lookup) : operation.body;
  const encoded = encodeRequestBody(body, headers['content-type']);
  if (encoded) {
    headers['content-type'] = encoded.contentType;
    headers['content-length'] = String(encoded.bytes.length);
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
