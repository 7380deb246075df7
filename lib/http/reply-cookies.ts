import { Cookie, defaultPath } from 'tough-cookie';
import type { BatchResult } from '../interfaces/batch-operation.interface.js';

/**
 * The `Set-Cookie` headers of a batch's operations, for the batch reply, so the browser that sent
 * the batch stores them as it would from the requests themselves (an HttpOnly session cookie in
 * an entry's JSON is out of its reach). Kept in the order the operations answered, so a cookie
 * set again by a later operation wins; operations that ran in parallel have no defined order.
 *
 * A cookie without a Path gets the operation url's default path (RFC 6265, 5.1.4) written out:
 * the browser would otherwise take the batch url's.
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
  return `${value}; Path=${defaultPath(path)}`;
}
