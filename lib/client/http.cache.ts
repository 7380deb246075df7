import type { BatchOperation, BatchResult } from '../interfaces/batch-operation.interface.js';
import { sameJsonText } from './entry.response.js';

/**
 * Statuses a cache may store without explicit freshness (RFC 9110, 15.1: heuristically
 * cacheable). This cache keeps only responses it can reuse or revalidate.
 */
const CACHEABLE_STATUS: ReadonlySet<number> = new Set([
  200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501,
]);
const UNSAFE_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Most urls kept, each with its responses per Vary; the least recently used goes first. */
const MAX_ENTRIES = 256;
/**
 * Request headers that say who the caller is, which the batch request carries for its
 * operations (the browser adds the cookies; a page cannot read them, nor an inherited
 * Authorization): a response varying by one the call did not set itself may be another user's.
 */
const UNSEEN_IDENTITY: readonly string[] = ['cookie', 'authorization'];

interface Stored {
  readonly result: BatchResult;
  /** Request headers named by Vary, as the stored response's request sent them. */
  readonly varied: Readonly<Record<string, string | undefined>>;
  /** When the response was received (ms), less its Age: its "corrected initial age" origin. */
  readonly born: number;
  readonly freshFor: number;
  readonly noCache: boolean;
}

/** What the cache has for a request: a response to serve, or validators to send. */
export type CacheLookup =
  | { readonly kind: 'fresh'; readonly result: BatchResult }
  | {
      readonly kind: 'validate';
      readonly headers: Record<string, string>;
      /** The response validated: what a 304 to these validators stands for. */
      readonly result: BatchResult;
    }
  | undefined;

/**
 * A private HTTP cache (RFC 9111) of the entries `client.fetch` received: freshness from
 * `Cache-Control: max-age` or `Expires`, validation with `ETag` / `Last-Modified`, `Vary`,
 * `no-store` and `no-cache` on either side; `private` responses are kept (this cache is one
 * page's). An unsafe method that succeeds drops what was kept for its url. Two things a
 * browser's cache knows and this one cannot see are handled as the browser would end up:
 * a response varying by the caller's cookies or inherited Authorization (which user the page is
 * signed in as) is not kept, and `Clear-Site-Data: "cache"` empties the cache (`observed` takes
 * in what the underlying fetch answered, for the calls a batch does not carry).
 */
export class HttpCache {
  private readonly entries = new Map<string, Stored[]>();

  constructor(private readonly now: () => number = Date.now) {}

  /** For a GET about to be sent: serve it, or send it with validators, or neither. */
  lookup(operation: BatchOperation, mode: string): CacheLookup {
    const headers = lower(operation.headers);
    const request = directives(headers['cache-control']);
    if (mode === 'no-store' || mode === 'reload' || request.has('no-store')) return undefined;
    const stored = this.variant(operation);
    if (!stored) return undefined;
    const age = (this.now() - stored.born) / 1000;
    const revalidate =
      stored.noCache ||
      mode === 'no-cache' ||
      request.has('no-cache') ||
      headers.pragma === 'no-cache' ||
      Number(request.get('max-age') ?? Infinity) < age;
    if (!revalidate && mode !== 'force-cache' && age < stored.freshFor) {
      return { kind: 'fresh', result: withAge(stored.result, age) };
    }
    if (mode === 'force-cache') return { kind: 'fresh', result: withAge(stored.result, age) };
    // A request with its own conditional headers is the caller's: sent as it is.
    if (headers['if-none-match'] !== undefined || headers['if-modified-since'] !== undefined) {
      return undefined;
    }
    const etag = one(stored.result.headers.etag);
    const modified = one(stored.result.headers['last-modified']);
    if (etag === undefined && modified === undefined) return undefined;
    const validators: Record<string, string> = {};
    if (etag !== undefined) validators['if-none-match'] = etag;
    else if (modified !== undefined) validators['if-modified-since'] = modified;
    return { kind: 'validate', headers: validators, result: stored.result };
  }

  /**
   * Takes in what an operation answered and gives the entry to resolve its call with: a 304 to
   * a validation the cache sent becomes the response it validated (`validated`, as the lookup
   * gave it, whether or not the cache still holds it by then), its headers updated. A 304 to
   * the caller's own validators is the caller's, and changes nothing kept.
   * @param serverDate the batch reply's `Date`: the server's clock, against which an `Expires`
   *   is read when the entry carries no `Date` of its own.
   */
  received(
    operation: BatchOperation,
    result: BatchResult,
    validated: BatchResult | undefined,
    serverDate?: string,
  ): BatchResult {
    const url = operation.url;
    // As the browser empties its HTTP cache of the site (a logout's answer, typically).
    if (clearsCache(result.headers['clear-site-data'])) this.entries.clear();
    if (UNSAFE_METHODS.has(operation.method)) {
      if (result.code < 400) this.invalidate(url, one(result.headers.location));
      return result;
    }
    if (operation.method !== 'GET') return result;
    if (result.code === 304) {
      if (!validated) return result;
      const updated: BatchResult = sameJsonText(validated, {
        ...validated,
        headers: { ...validated.headers, ...freshnessHeaders(result.headers) },
      });
      // Updated in place only while the cache still holds that response: one dropped meanwhile
      // (a write to its url, or evicted) is not brought back.
      const stored = this.variant(operation);
      if (stored && sameValidators(stored.result, validated)) {
        this.store(operation, updated, serverDate);
      }
      return updated;
    }
    this.store(operation, result, serverDate);
    return result;
  }

  /**
   * Takes in a response the underlying fetch gave for a call of the endpoint's origin that a
   * batch did not carry (a form upload, a keepalive call): its `Clear-Site-Data` and an unsafe
   * method's success change what is kept, as they change the browser's cache.
   */
  observed(method: string, url: string, status: number, headers: Headers): void {
    if (clearsCache(headers.get('clear-site-data') ?? undefined)) this.entries.clear();
    else if (UNSAFE_METHODS.has(method) && status < 400) {
      this.invalidate(url, headers.get('location') ?? undefined);
    }
  }

  /** The response kept for this url whose Vary headers match the request's; marked as used. */
  private variant(operation: BatchOperation): Stored | undefined {
    const variants = this.entries.get(operation.url);
    if (!variants) return undefined;
    this.entries.delete(operation.url);
    this.entries.set(operation.url, variants);
    const headers = lower(operation.headers);
    return variants.find((stored) => varyMatches(stored, headers));
  }

  private store(operation: BatchOperation, result: BatchResult, serverDate?: string): void {
    const url = operation.url;
    const request = directives(lower(operation.headers)['cache-control']);
    const response = directives(one(result.headers['cache-control']));
    const vary = one(result.headers.vary);
    const freshFor = freshness(result, response, serverDate);
    const validator =
      result.headers.etag !== undefined || result.headers['last-modified'] !== undefined;
    if (
      !CACHEABLE_STATUS.has(result.code) ||
      request.has('no-store') ||
      response.has('no-store') ||
      vary?.trim() === '*' ||
      (freshFor <= 0 && !validator)
    ) {
      this.drop(operation);
      return;
    }
    const headers = lower(operation.headers);
    const varied: Record<string, string | undefined> = {};
    for (const name of (vary ?? '').split(',')) {
      const key = name.trim().toLowerCase();
      if (key) varied[key] = headers[key];
    }
    // A browser matches Vary against the cookies it holds, and sends a request without
    // validators when they differ; this cache cannot see them, and a validator need not tell
    // users apart (a Last-Modified, an ETag of a shared record): such a response is not kept.
    if (UNSEEN_IDENTITY.some((name) => name in varied && headers[name] === undefined)) {
      this.drop(operation);
      return;
    }
    const age = Number(one(result.headers.age) ?? 0);
    const others = this.drop(operation);
    this.entries.set(url, [
      ...others,
      {
        result,
        varied,
        born: this.now() - (Number.isFinite(age) ? age * 1000 : 0),
        freshFor: Math.max(freshFor, 0),
        noCache: response.has('no-cache'),
      },
    ]);
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= MAX_ENTRIES) break;
      this.entries.delete(oldest);
    }
  }

  /** Forgets the variant matching the request; gives the url's other variants. */
  private drop(operation: BatchOperation): Stored[] {
    const headers = lower(operation.headers);
    const others = (this.entries.get(operation.url) ?? []).filter(
      (stored) => !varyMatches(stored, headers),
    );
    this.entries.delete(operation.url);
    if (others.length > 0) this.entries.set(operation.url, others);
    return others;
  }

  private invalidate(url: string, location: string | undefined): void {
    this.entries.delete(url);
    if (location !== undefined) {
      try {
        const target = new URL(location, `http://cache.invalid${url}`);
        if (target.host === 'cache.invalid') this.entries.delete(target.pathname + target.search);
      } catch {
        // Not a url: nothing to drop.
      }
    }
  }
}

/**
 * Seconds a response stays fresh: `max-age`, else `Expires` less `Date` (the entry's, else the
 * batch reply's: both the server's clock; the page's only when neither is known); 0 without
 * either.
 */
function freshness(
  result: BatchResult,
  response: ReadonlyMap<string, string | undefined>,
  serverDate: string | undefined,
): number {
  const maxAge = Number(response.get('max-age'));
  if (response.has('max-age') && Number.isFinite(maxAge)) return maxAge;
  const expires = one(result.headers.expires);
  if (expires === undefined) return 0;
  const date =
    Date.parse(one(result.headers.date) ?? '') || Date.parse(serverDate ?? '') || Date.now();
  const until = Date.parse(expires);
  return Number.isNaN(until) ? 0 : (until - date) / 1000;
}

/** Headers a 304 updates on the stored response (RFC 9111, 4.3.4), content headers excepted. */
function freshnessHeaders(headers: BatchResult['headers']): BatchResult['headers'] {
  const kept: BatchResult['headers'] = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!/^content-/.test(name) && name !== 'set-cookie') kept[name] = value;
  }
  return kept;
}

function sameValidators(a: BatchResult, b: BatchResult): boolean {
  return (
    one(a.headers.etag) === one(b.headers.etag) &&
    one(a.headers['last-modified']) === one(b.headers['last-modified'])
  );
}

function varyMatches(stored: Stored, headers: Readonly<Record<string, string>>): boolean {
  return Object.entries(stored.varied).every(([name, value]) => headers[name] === value);
}

/** Whether a `Clear-Site-Data` value names the cache (`"cache"`, or `"*"`: everything). */
function clearsCache(header: string | string[] | undefined): boolean {
  if (header === undefined) return false;
  return (Array.isArray(header) ? header.join(',') : header)
    .split(',')
    .some((part) => ['"cache"', '"*"'].includes(part.trim()));
}

function withAge(result: BatchResult, age: number): BatchResult {
  return sameJsonText(result, {
    ...result,
    headers: { ...result.headers, age: String(Math.floor(age)) },
  });
}

function directives(header: string | undefined): Map<string, string | undefined> {
  const map = new Map<string, string | undefined>();
  for (const part of (header ?? '').split(',')) {
    const [name, value] = part.split('=');
    if (name?.trim()) map.set(name.trim().toLowerCase(), value?.trim().replace(/^"|"$/g, ''));
  }
  return map;
}

function lower(headers: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) out[name.toLowerCase()] = value;
  return out;
}

function one(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}
