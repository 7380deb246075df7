import { defaultPath } from 'tough-cookie';
import { mapStream, type StartStream } from '../dispatch/operation.task.js';
import type { BatchOutcome, BatchResult } from '../interfaces/batch-operation.interface.js';
import {
  clearSiteDataOf,
  clearsCookies,
  isRefusedCookie,
  parseSetCookie,
  type CookieHeaders,
} from '../operation/cookie.rules.js';
import { withoutCookieHeaders } from '../operation/entry.headers.js';
import { withHeaders } from '../operation/response-body.decoder.js';

/**
 * The outcomes of a batch run as the endpoint's entries carry them: without `set-cookie` and
 * `set-cookie2`, under any `entryHeaders` policy and in every format. An entry is read by the
 * script that sent the batch, and `fetch()` never shows a script either header (forbidden
 * response-header names; an HttpOnly session cookie least of all); the cookies reach the browser
 * on the reply itself (`ReplyCookies`), and the batch's later operations through its jar, which
 * has read them already. `take` sees each result before its cookies are taken out. Results
 * from `BatchExecutor` keep them: code calling it is no script, and has no reply to carry them.
 */
export function withoutEntryCookies(
  outcomes: StartStream<BatchOutcome>,
  take?: (result: BatchResult) => void,
): StartStream<BatchOutcome> {
  return mapStream(outcomes, (outcome) => {
    const { result } = outcome;
    take?.(result);
    const headers = withoutCookieHeaders(result.headers);
    if (headers === undefined) return outcome;
    return { index: outcome.index, result: withHeaders(result, headers) };
  });
}

/**
 * The `Set-Cookie` headers of a batch's operations, for the batch reply, so the browser that sent
 * the batch stores them as it would from the requests themselves (an HttpOnly session cookie in
 * an entry's JSON is out of its reach). One per cookie (name, domain, path): the last one set, in
 * the order the operations answered, which is the cookie a browser ends with after the requests
 * themselves; operations that ran in parallel have no defined order. A cookie every operation
 * sets again (a rolling session) is therefore sent once, not once per operation. A cookie the
 * browser will refuse (`isRefusedCookie`) takes no other's place: the browser keeps the one set
 * before it, so that one is relayed too, first.
 *
 * A cookie without a Path gets the operation url's default path (RFC 6265, 5.1.4) written out:
 * the browser would otherwise take the batch url's. Not a `__Host-` one: its prefix requires a
 * `Path=/` the app wrote, and a browser refuses it without one, as it would from the app's own
 * response. Nothing else is added: the attributes are the app's.
 */
export class ReplyCookies {
  /** By cookie identity; a cookie set again moves to the end, where it was last set. */
  private readonly values = new Map<string, string>();

  /** @param crossSite the batch came from a page of another site (`isCrossSiteRequest`). */
  constructor(private readonly crossSite = false) {}

  /**
   * True once an operation's `Clear-Site-Data` cleared the site's cookies: the reply then says
   * so too (`Clear-Site-Data: "cookies"`), for the browser to delete those it holds, and carries
   * only the cookies set after.
   */
  cleared = false;
  /**
   * The other types of data the operations' `Clear-Site-Data` cleared (`"cache"`, `"storage"`,
   * ...), as written: the browser clears them for the site at the reply as it would have at the
   * response (a logout's `"cache"` drops the private responses its cache holds).
   */
  private readonly clearedTypes = new Set<string>();

  take(result: BatchResult): void {
    this.apply(result.url, result.headers['set-cookie'], clearSiteDataOf(result));
  }

  /**
   * The `Set-Cookie` and `Clear-Site-Data` of an operation's response to `url`: its result's
   * headers, or those it had sent when the batch's end cut it off.
   */
  add(url: string, headers: CookieHeaders): void {
    this.apply(url, headers['set-cookie'], headers['clear-site-data']);
  }

  private apply(
    url: string,
    setCookie: string | string[] | undefined,
    clearSiteData: string | string[] | undefined,
  ): void {
    if (setCookie !== undefined) this.set(url, setCookie);
    // After the response's own cookies: the browser clears those too.
    if (clearsCookies(clearSiteData)) {
      this.values.clear();
      this.cleared = true;
    }
    if (clearSiteData !== undefined) {
      const value = Array.isArray(clearSiteData) ? clearSiteData.join(',') : clearSiteData;
      for (const [type] of value.matchAll(/"[^"]*"/g)) {
        if (type !== '"cookies"') this.clearedTypes.add(type);
      }
    }
  }

  /** The reply's `Clear-Site-Data`: every type an operation cleared; undefined for none. */
  get clearSiteData(): string | undefined {
    const types = this.cleared ? ['"cookies"', ...this.clearedTypes] : [...this.clearedTypes];
    return types.length === 0 ? undefined : types.join(', ');
  }

  private set(url: string, setCookie: string | string[]): void {
    for (const value of Array.isArray(setCookie) ? setCookie : [setCookie]) {
      const relayed = relay(value, url, this.crossSite);
      this.values.delete(relayed.identity);
      this.values.set(relayed.identity, relayed.value);
    }
  }

  /** What the reply carries, in order. */
  get all(): readonly string[] {
    return [...this.values.values()];
  }
}

/**
 * The value the reply carries, and the cookie it sets: name, domain (none for a host-only one)
 * and path. A value no cookie can be read from, or whose cookie the browser refuses, is its own
 * identity.
 */
function relay(
  value: string,
  url: string,
  crossSite: boolean,
): { value: string; identity: string } {
  const cookie = parseSetCookie(value);
  if (!cookie || isRefusedCookie(cookie, crossSite)) return { value, identity: `\0${value}` };
  const [urlPath = '/'] = url.split('?', 1);
  const path = cookie.path ?? writablePath(defaultPath(urlPath));
  const domain = (cookie.domain ?? '').toLowerCase();
  const identity = JSON.stringify([cookie.key, domain, path]);
  if (cookie.path !== null || /^__host-/i.test(cookie.key)) return { value, identity };
  return { value: `${value}; Path=${path}`, identity };
}

/**
 * A path a Set-Cookie can carry. The url is the request's, and a `;` in it would end the Path
 * attribute and start others (`/x;Max-Age=9;SameSite=None/y`): the path is cut to the directory
 * before its first `;`, a prefix of it, so the cookie still reaches every path it would have.
 */
function writablePath(path: string): string {
  const semicolon = path.indexOf(';');
  if (semicolon === -1) return path;
  return path.slice(0, path.lastIndexOf('/', semicolon - 1)) || '/';
}
