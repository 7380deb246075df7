import { ENTRY_HEADERS_DROPPED, type EntryHeaderPolicy } from '../batch.constants.js';

const DROPPED = new Set(ENTRY_HEADERS_DROPPED);

/**
 * The headers an entry carries under `policy` (see {@link ENTRY_HEADERS_DROPPED}). Applied when
 * the result is made, after the batch's cookie jar has read the response's own headers, so every
 * format (native, NDJSON, Facebook, Graph, multipart) and `BatchExecutor` get the same.
 * @param hasBody Whether the entry carries a body: without one, `content-length` still says
 *   something (how long a HEAD answer's body would be) and is kept.
 */
export function entryHeaders(
  headers: Record<string, string | string[]>,
  policy: EntryHeaderPolicy,
  hasBody: boolean,
): Record<string, string | string[]> {
  if (policy === 'all') return headers;
  const kept: Record<string, string | string[]> = {};
  for (const name of Object.keys(headers)) {
    if (DROPPED.has(name) && (hasBody || name !== 'content-length')) continue;
    kept[name] = headers[name] as string | string[];
  }
  return kept;
}

/**
 * `headers` less `Set-Cookie` and `Set-Cookie2`, or undefined when it has neither: what an entry
 * a script reads carries (`fetch()` never shows either), and what a member of a rolled-back
 * group keeps. A copy: the response's own map is the batch's record of it.
 */
export function withoutCookieHeaders(
  headers: Readonly<Record<string, string | string[]>>,
): Record<string, string | string[]> | undefined {
  if (!('set-cookie' in headers) && !('set-cookie2' in headers)) return undefined;
  const kept = { ...headers };
  delete kept['set-cookie'];
  delete kept['set-cookie2'];
  return kept;
}
