import fc from 'fast-check';
import { MAX_URL_LENGTH, urlProblem, urlProblemByRule } from './url.rules.js';

describe('urlProblem', () => {
  it.each([
    '/items',
    '/items/42?after=7&sort=-name',
    '/files/report.json',
    '/files/.hidden',
    '/files/a..b',
    '/search?q=../../etc/passwd',
    '/items/%41%20b',
    '/',
  ])('accepts %s', (url) => {
    expect(urlProblem(url)).toBeUndefined();
  });

  it.each([
    ['/a/./b', /"\." or "\.\." path segments/],
    ['/a/../b', /"\." or "\.\." path segments/],
    ['/a/..', /"\." or "\.\." path segments/],
    ['/a/%2e/b', /"\." or "\.\." path segments/],
    ['/a/%2E%2e', /"\." or "\.\." path segments/],
    ['/a/..%2fb', /"\." or "\.\." path segments/],
    ['/a/%2e%2e%5cb', /"\." or "\.\." path segments/],
    ['/a/%zz', /malformed percent-encoding in "%zz"/],
    ['/a/%0d%0a', /encodes a control character/],
    ['/a b', /printable ASCII/],
    ['a/b', /starting with "\/"/],
    ['//host/a', /protocol-relative/],
    ['/a\\b', /backslash/],
    ['/a#b', /fragment/],
  ])('refuses %s', (url, problem) => {
    expect(urlProblem(url)).toMatch(problem);
  });

  it('refuses a url longer than a request line may be', () => {
    expect(urlProblem(`/${'a'.repeat(8191)}`)).toBeUndefined();
    expect(urlProblem(`/${'a'.repeat(8192)}`)).toMatch(/at most 8192 characters/);
  });

  it('says what the checks one by one say, for any url (its one-pass fast path agrees)', () => {
    // Urls made of the characters each check is about, so every branch is reached often.
    const char = fc.constantFrom(
      '/',
      'a',
      'b',
      '.',
      '%',
      '2',
      'e',
      '?',
      '#',
      '\\',
      ' ',
      '\t',
      '~',
      '-',
      '_',
      '=',
      '&',
      '\u00e9',
      '\u0000',
      '%2f',
      '%00',
      '..',
    );
    const url = fc.oneof(
      fc.array(char, { maxLength: 24 }).map((parts) => parts.join('')),
      fc.array(char, { maxLength: 24 }).map((parts) => `/${parts.join('')}`),
    );
    fc.assert(
      fc.property(url, (candidate) => {
        expect(urlProblem(candidate)).toBe(urlProblemByRule(candidate));
      }),
      { numRuns: 20_000 },
    );
    expect(urlProblem(`/${'a'.repeat(9000)}`)).toBe(urlProblemByRule(`/${'a'.repeat(9000)}`));
  });

  it('agrees with the checks one by one over any printable ASCII and any code unit', () => {
    const ascii = fc.string({
      unit: fc.integer({ min: 0, max: 0x7f }).map((c) => String.fromCharCode(c)),
      maxLength: 40,
    });
    const anyUnit = fc.string({ unit: 'binary', maxLength: 20 });
    const url = fc.oneof(
      ascii,
      ascii.map((s) => `/${s}`),
      anyUnit.map((s) => `/${s}`),
      fc.tuple(ascii, ascii).map(([a, b]) => `/${a}?${b}`),
    );
    fc.assert(
      fc.property(url, (candidate) => {
        expect(urlProblem(candidate)).toBe(urlProblemByRule(candidate));
      }),
      { numRuns: 50_000 },
    );
  });

  it('agrees at the length cap and on lone surrogates', () => {
    for (const url of [
      `/${'a'.repeat(MAX_URL_LENGTH - 1)}`,
      `/${'a'.repeat(MAX_URL_LENGTH)}`,
      `/?${'.'.repeat(MAX_URL_LENGTH - 2)}`,
      '/\ud800',
      '/a?\udc00',
      '/',
      '',
      '/?',
      '/?#',
      '/a?b\\c',
      '/%',
      '/a?%zz',
    ]) {
      expect(urlProblem(url)).toBe(urlProblemByRule(url));
    }
  });
});
