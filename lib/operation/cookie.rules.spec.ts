import {
  clearsCookies,
  isCrossSiteRequest,
  isRefusedCookie,
  MAX_COOKIE_PAIR_BYTES,
  parseSetCookie,
} from './cookie.rules.js';

function refused(value: string, crossSite = false): boolean {
  const cookie = parseSetCookie(value);
  if (!cookie) throw new Error(`no cookie in ${value}`);
  return isRefusedCookie(cookie, crossSite);
}

describe('isRefusedCookie', () => {
  it(`refuses a name and value over ${MAX_COOKIE_PAIR_BYTES} bytes, not one of exactly that`, () => {
    const fits = `ab=${'x'.repeat(MAX_COOKIE_PAIR_BYTES - 2)}`;
    expect(refused(fits)).toBe(false);
    expect(refused(`${fits}x`)).toBe(true);
    expect(refused(`${'n'.repeat(MAX_COOKIE_PAIR_BYTES)}=1`)).toBe(true);
  });

  it('refuses SameSite=None without Secure, in any context', () => {
    expect(refused('a=1; SameSite=None')).toBe(true);
    expect(refused('a=1; samesite=none; Secure')).toBe(false);
  });

  it('keeps only SameSite=None cookies from a cross-site request, one without the attribute not', () => {
    for (const value of ['a=1; SameSite=Lax', 'a=1; SameSite=Strict', 'a=1', 'a=1; SameSite=x']) {
      expect([value, refused(value, true)]).toEqual([value, true]);
      expect([value, refused(value, false)]).toEqual([value, false]);
    }
    expect(refused('a=1; SameSite=None; Secure', true)).toBe(false);
  });
});

describe('parseSetCookie', () => {
  it('reads a value without `=` as a nameless cookie', () => {
    expect(parseSetCookie('solo; Path=/')).toMatchObject({ key: '', value: 'solo', path: '/' });
  });
});

describe('isCrossSiteRequest', () => {
  it('believes Sec-Fetch-Site: cross-site only', () => {
    expect(isCrossSiteRequest('cross-site')).toBe(true);
    expect(isCrossSiteRequest(' Cross-Site ')).toBe(true);
    expect(isCrossSiteRequest(['cross-site'])).toBe(true);
    for (const site of ['same-site', 'same-origin', 'none', undefined]) {
      expect(isCrossSiteRequest(site)).toBe(false);
    }
  });
});

describe('clearsCookies', () => {
  it('for "cookies" or "*" among the directives, quoted as the header requires', () => {
    expect(clearsCookies('"cookies"')).toBe(true);
    expect(clearsCookies('"cache", "cookies"')).toBe(true);
    expect(clearsCookies(['"cache"', '"*"'])).toBe(true);
    for (const value of ['"cache"', 'cookies', '"storage", "executionContexts"', undefined]) {
      expect(clearsCookies(value)).toBe(false);
    }
  });
});
