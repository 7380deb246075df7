import { map, type Observable } from 'rxjs';
import { Cookie, defaultPath } from 'tough-cookie';
import type { BatchOutcome, BatchResult } from '../interfaces/batch-operation.interface.js';

/**
 * The outcomes of a batch run as the endpoint's entries carry them: without `set-cookie`, under
 * any `entryHeaders` policy and in every format. An entry is read by the script that sent the
 * batch, and `fetch()` never shows a script a response's Set-Cookie (an HttpOnly session cookie
 * least of all); the cookies reach the browser on the reply itself (`ReplyCookies`), and the
 * batch's later operations through its jar, which has read them already. `take` sees each
 * result before its cookies are taken out. Results from `BatchExecutor` keep them: code calling
 * it is no script, and has no reply to carry them.
 */
export function withoutEntryCookies(
  outcomes: Observable<BatchOutcome>,
  take?: (result: BatchResult) => void,
): Observable<BatchOutcome> {
  return outcomes.pipe(
    map((outcome) => {
      const { result } = outcome;
      take?.(result);
      if (!('set-cookie' in result.headers)) return outcome;
      const headers = { ...result.headers };
      delete headers['set-cookie'];
      return { index: outcome.index, result: { ...result, headers } };
    }),
  );
}

/**
 * The `Set-Cookie` headers of a batch's operations, for the batch reply, so the browser that sent
 * the batch stores them as it would from the requests themselves (an HttpOnly session cookie in
 * an entry's JSON is out of its reach). Kept in the order the operations answered, so a cookie
 * set again by a later operation wins; operations that ran in parallel have no defined order.
 *
 * A cookie without a Path gets the operation url's default path (RFC 6265, 5.1.4) written out:
 * the browser would otherwise take the batch url's. Nothing else is added: the attributes are
 * the app's.
 */
export class ReplyCookies {
  private readonly values: string[] = [];

  take(result: BatchResult): void {
    const setCookie = result.headers['set-cookie'];
    if (setCookie === undefined) return;
    for (const value of Array.isArray(setCookie) ? setCookie : [setCookie]) {
      this.values.push(withPath(value, result.url));
    }
  }

  /** What the reply carries, in order. */
  get all(): readonly string[] {
    return this.values;
  }
}

function withPath(value: string, url: string): string {
  const cookie = Cookie.parse(value, { loose: true });
  if (!cookie || cookie.path !== null) return value;
  const [path = '/'] = url.split('?', 1);
  return `${value}; Path=${writablePath(defaultPath(path))}`;
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
