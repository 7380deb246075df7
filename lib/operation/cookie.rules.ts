import { Cookie } from 'tough-cookie';

/**
 * The longest name and value together a browser stores (RFC 6265bis 5.7, step 5; Chromium and
 * Firefox): a longer cookie is ignored whole.
 */
export const MAX_COOKIE_PAIR_BYTES = 4096;

/**
 * A `Set-Cookie` value read as a browser reads it (RFC 6265bis 5.6): one without `=` is a
 * cookie with an empty name (`Set-Cookie: solo` is sent back as `solo`). Undefined when no
 * cookie can be read from it.
 */
export function parseSetCookie(value: string): Cookie | undefined {
  return Cookie.parse(value, { loose: true });
}

/**
 * Whether a browser ignores this cookie, by the storage rules tough-cookie does not apply
 * (RFC 6265bis 5.7): a name and value over {@link MAX_COOKIE_PAIR_BYTES}; `SameSite=None`
 * without `Secure`; and in the response to a cross-site request (a page of another site sent
 * the batch), every cookie but a `SameSite=None` one, a cookie without the attribute too (its
 * same-site flag is "Default", as Chromium enforces).
 */
export function isRefusedCookie(cookie: Cookie, crossSite: boolean): boolean {
  // Header values are latin1 (one byte a character), as Node's parser reads them.
  if (cookie.key.length + cookie.value.length > MAX_COOKIE_PAIR_BYTES) return true;
  if (cookie.sameSite === 'none') return !cookie.secure;
  return crossSite;
}

/**
 * Whether the browser marked the request cross-site (`Sec-Fetch-Site`, which no page can set):
 * its responses' cookies are then held to the cross-site rules. A browser that sends no fetch
 * metadata enforces no SameSite rules either.
 */
export function isCrossSiteRequest(secFetchSite: string | string[] | undefined): boolean {
  const site = Array.isArray(secFetchSite) ? secFetchSite[0] : secFetchSite;
  return site?.trim().toLowerCase() === 'cross-site';
}

/**
 * The headers of a response that change what the browser keeps: its cookies, and a
 * `Clear-Site-Data` that may delete them. A browser applies both as the headers arrive, whatever
 * happens to the body after.
 */
export interface CookieHeaders {
  readonly 'set-cookie'?: string | string[];
  readonly 'clear-site-data'?: string | string[];
}

/** The {@link CookieHeaders} among `headers`, or undefined when there are none. */
export function cookieHeadersOf(
  headers: Readonly<Record<string, string | string[]>> | undefined,
): CookieHeaders | undefined {
  if (headers === undefined) return undefined;
  const setCookie = headers['set-cookie'];
  const clearSiteData = headers['clear-site-data'];
  if (setCookie === undefined && clearSiteData === undefined) return undefined;
  return {
    ...(setCookie === undefined ? {} : { 'set-cookie': setCookie }),
    ...(clearSiteData === undefined ? {} : { 'clear-site-data': clearSiteData }),
  };
}

/**
 * The `Clear-Site-Data` the browser applies of answers whose entry does not show it: one CORS
 * hid from the page that sent the batch, or one a failed answer had sent before it failed (a
 * failure's headers are the library's). Kept apart from the headers, which the entry and the
 * batch's references read.
 */
const hiddenClearSiteData = new WeakMap<object, string | string[]>();

/** Notes the `Clear-Site-Data` of an answer whose entry may not show it. */
export function hideClearSiteData(result: object, value: string | string[]): void {
  hiddenClearSiteData.set(result, value);
}

/** Forgets it (a rolled-back group member clears nothing). */
export function forgetClearSiteData(result: object): void {
  hiddenClearSiteData.delete(result);
}

/** The `Clear-Site-Data` an answer's browser applies: its header, or the one kept apart. */
export function clearSiteDataOf(result: {
  readonly headers: Readonly<Record<string, string | string[]>>;
}): string | string[] | undefined {
  return result.headers['clear-site-data'] ?? hiddenClearSiteData.get(result);
}

/**
 * Whether a response's `Clear-Site-Data` clears the site's cookies (`"cookies"` or `"*"`): the
 * browser then deletes every cookie of the site, those the same response set included
 * (Chromium clears once it has stored them).
 */
export function clearsCookies(clearSiteData: string | string[] | undefined): boolean {
  if (clearSiteData === undefined) return false;
  const value = Array.isArray(clearSiteData) ? clearSiteData.join(',') : clearSiteData;
  return /"(?:cookies|\*)"/.test(value);
}
