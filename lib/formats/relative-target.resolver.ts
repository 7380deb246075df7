/**
 * A relative request target (`TodoItems(3)`, `items/1?x=1`) resolved against the batch request's
 * url, as OData says a batch's relative urls are (JSON Format 4.01 §19.1, Part 1 §11.7.2:
 * "relative to the batch request URL", i.e. the service root): under `/odata/$batch`,
 * `TodoItems` is `/odata/TodoItems`; under `/batch` or `/$batch` it is `/TodoItems`. Resolved
 * as a browser resolves a link (RFC 3986 §5), so `../x` cannot climb above `/`.
 * @returns The path and query; the target unchanged when it cannot be resolved (the url rules
 *   then refuse it with a message naming it).
 */
export function resolveRelativeTarget(target: string, batchUrl = '/'): string {
  try {
    const url = new URL(target, new URL(batchUrl, 'http://batch.invalid'));
    return `${url.pathname}${url.search}`;
  } catch {
    return target;
  }
}

/** `https://host/x`, `mailto:x`: a target with a scheme, which no relative resolution applies to. */
export const hasScheme = (target: string): boolean => /^[a-z][a-z0-9+.-]*:/i.test(target);
