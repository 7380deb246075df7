import { type Cookie, CookieJar, getPublicSuffix, pathMatch } from 'tough-cookie';
import type { DispatchRequest } from '../dispatch/operation.dispatcher.js';
import type { ParentContext } from '../dispatch/parent.context.js';
import type { BatchOperation, BatchResult } from '../interfaces/batch-operation.interface.js';
import { headerBlockBytes, MAX_OPERATION_HEADER_BYTES } from '../validation/header.rules.js';
import {
  clearSiteDataOf,
  clearsCookies,
  isCrossSiteRequest,
  isRefusedCookie,
  parseSetCookie,
} from './cookie.rules.js';
import { InvalidRenderedRequestError } from './operation.request.js';

/** Cookies a Set-Cookie cannot be stored from are skipped, as a browser skips them. */
const LENIENT = { ignoreError: true } as const;

/**
 * The cookies of one batch, as a browser would hold them between the batch's requests. Starts
 * with the batch request's own cookies (those it inherits: none for a batch a browser may have
 * sent cross-site without a preflight), takes in each operation's `Set-Cookie` as it answers,
 * with RFC 6265 semantics (Path, Domain, Expires/Max-Age, deletion, Secure, HttpOnly, prefixes;
 * tough-cookie) and the storage rules it leaves out (`cookie.rules.ts`: the size cap,
 * `SameSite=None` without `Secure`, SameSite for a batch a page of another site sent), and
 * gives each operation that starts afterwards the cookies that apply to its url. An operation
 * ordered after another (`dependsOn`, a reference) therefore sees the cookies it set; one
 * running in parallel may or may not. Made per batch, never shared.
 *
 * The batch request's cookies are sent on as the browser sent them, in its order, duplicates
 * (one name on several paths, most specific first) and nameless ones kept: their attributes are
 * unknown, so no jar can rebuild that order. All that is known of their paths is that the batch
 * url is under each. So a cookie an operation sets or deletes for a path the batch url is under
 * is taken for the inherited one of its name (`Path=/`, the common case), which is then no
 * longer sent; one for any other path is another cookie, more specific than every inherited
 * one: sent before them, as a browser orders cookies by path length, the inherited ones kept.
 * The jar's other cookies follow the inherited ones.
 *
 * Every operation is taken as a request over HTTPS to the host the app reads (`siteHost`, else
 * the batch request's Host): operations never leave the process, and the server cannot tell a
 * plain-http site from one behind a TLS proxy it does not trust (whose app reads `http`), so a
 * Secure cookie is kept, as the browser on https keeps it; on a plain-http site a browser would
 * refuse it (CONTRIBUTING.md, known gaps).
 */
export class BatchCookieJar {
  /**
   * Made when an operation first sets a cookie, as are the origin and the inherited pairs: most
   * batches set none, and every operation of those keeps the batch's header untouched.
   */
  private stored: CookieJar | undefined;
  private originText: string | undefined;
  private batchPathText: string | undefined;
  /** The batch request's cookie pairs, as sent. */
  private inheritedPairs: readonly string[] | undefined;
  /** Names an operation set or deleted: inherited pairs of these names are no longer sent. */
  private readonly replaced = new Set<string>();
  /** False until an operation set a cookie: until then, every operation keeps the batch's header. */
  private changed = false;

  /**
   * @param batchUrl the batch request's url: the inherited cookies are those of paths its path
   *   is under.
   * @param storesNothing the batch was sent without credentials (`sentWithoutCredentials`):
   *   the browser stores none of its responses' cookies, so neither does the jar.
   * @param siteHost the host the browser addressed (`BatchCookieRules.siteHost`): behind a
   *   proxy, the Host header is the upstream's, and a cookie for the site's domain would be
   *   refused as another site's.
   */
  constructor(
    private readonly parent: ParentContext,
    private readonly batchUrl?: string,
    private readonly storesNothing = false,
    private readonly siteHost?: () => string | undefined,
  ) {}

  /** The batch url's path, found at the first cookie an operation sets: most batches set none. */
  private get batchPath(): string {
    return (this.batchPathText ??= pathOf(this.batchUrl));
  }

  private get jar(): CookieJar {
    return (this.stored ??= new CookieJar());
  }

  private get origin(): string {
    return (this.originText ??= originOf(this.siteHost?.() ?? this.parent.headers.host));
  }

  private get inherited(): readonly string[] {
    return (this.inheritedPairs ??= (this.parent.headers.cookie ?? '')
      .split(';')
      .map((pair) => pair.trim())
      .filter((pair) => pair !== ''));
  }

  /**
   * Sets the Cookie header of an operation about to run, unless it wrote its own: then its own is
   * sent as written, as every header an operation sets wins over what it would inherit.
   * @throws InvalidRenderedRequestError when the cookies take the header block past the cap a
   *   request of its own is held to: a browser could not send it either.
   */
  attach(request: DispatchRequest, operation: BatchOperation): void {
    if (!this.changed || hasOwnCookie(operation)) return;
    const before: string[] = [];
    const after: string[] = [];
    for (const stored of this.jar.getCookiesSync(this.urlOf(request.url), { sort: true })) {
      (this.mayBeInherited(stored) ? after : before).push(stored.cookieString());
    }
    const inherited = this.inherited.filter((pair) => !this.replaced.has(nameOf(pair)));
    const cookie = [...before, ...inherited, ...after].join('; ');
    if (cookie === '') delete request.headers.cookie;
    else request.headers.cookie = cookie;
    const limit = this.parent.connection.headerLimit ?? MAX_OPERATION_HEADER_BYTES;
    if (headerBlockBytes(request.headers) > limit) {
      throw new InvalidRenderedRequestError(
        `headers take more than ${limit} bytes with the batch's cookies added, more than a request of its own may carry (--max-http-header-size)`,
      );
    }
  }

  /**
   * A copy that changes apart from this jar: an atomic group's members see each other's cookies
   * in it, and the batch sees none of them unless the group commits (then they are stored here).
   */
  fork(): BatchCookieJar {
    const copy = Object.create(BatchCookieJar.prototype) as BatchCookieJar;
    return Object.assign(copy, {
      parent: this.parent,
      batchUrl: this.batchUrl,
      batchPathText: this.batchPathText,
      storesNothing: this.storesNothing,
      siteHost: this.siteHost,
      stored: this.stored?.cloneSync(),
      originText: this.originText,
      inheritedPairs: this.inheritedPairs,
      replaced: new Set(this.replaced),
      changed: this.changed,
    });
  }

  /**
   * Takes in the cookies an operation's response sets; a response whose `Clear-Site-Data`
   * clears cookies then leaves none, the batch request's included, as the browser deletes them.
   */
  store(result: BatchResult): void {
    const setCookie = result.headers['set-cookie'];
    if (setCookie !== undefined && !this.storesNothing) this.take(result.url, setCookie);
    if (clearsCookies(clearSiteDataOf(result))) {
      this.stored = undefined;
      this.inheritedPairs = [];
      this.changed = true;
    }
  }

  private take(path: string, setCookie: string | string[]): void {
    const url = this.urlOf(path);
    const { hostname } = new URL(this.origin);
    const crossSite = isCrossSiteRequest(this.parent.headers['sec-fetch-site']);
    for (const value of Array.isArray(setCookie) ? setCookie : [setCookie]) {
      this.changed = true;
      const cookie = parseSetCookie(value);
      if (!cookie || isRefusedCookie(cookie, crossSite)) continue;
      hostOnlyAtOwnSuffix(cookie, hostname);
      const stored = this.jar.setCookieSync(cookie, url, LENIENT);
      if (stored && this.mayBeInherited(stored)) this.replaced.add(stored.key);
    }
  }

  /** Whether the browser could have sent this cookie on the batch request: its path's is under. */
  private mayBeInherited(cookie: Cookie): boolean {
    return pathMatch(this.batchPath, cookie.path ?? '/');
  }

  private urlOf(path: string): string {
    return `${this.origin}${path.startsWith('/') ? path : `/${path}`}`;
  }
}

/**
 * RFC 6265, 5.3 step 5: a Domain that is a public suffix (or a single label: an intranet name, a
 * compose or Kubernetes service) and is the request's host itself makes a host-only cookie, as
 * Chromium keeps `Domain=intranet` from `http://intranet`; tough-cookie refuses it outright.
 * Special-use names (`localhost`) are left to tough-cookie's own rules.
 */
function hostOnlyAtOwnSuffix(cookie: Cookie, host: string): void {
  const domain = cookie.domain?.replace(/^\./, '').toLowerCase();
  if (domain !== host) return;
  try {
    if (getPublicSuffix(domain) === undefined) cookie.domain = null;
  } catch {
    // A special-use domain: tough-cookie decides.
  }
}

/** A cookie pair's name: `''` for a nameless one (`legacy`), as RFC 6265bis reads it. */
function nameOf(pair: string): string {
  const equals = pair.indexOf('=');
  return equals === -1 ? '' : pair.slice(0, equals).trim();
}

function hasOwnCookie(operation: BatchOperation): boolean {
  return Object.keys(operation.headers ?? {}).some((name) => name.toLowerCase() === 'cookie');
}

/** `https://<host>`, or `https://localhost` for a Host header no URL can be made of. */
function originOf(host: string | undefined): string {
  try {
    return new URL(`https://${host ?? 'localhost'}`).origin;
  } catch {
    return 'https://localhost';
  }
}

/** A request url's path, without its query (an absolute-form url's too): `/` without one. */
function pathOf(url: string | undefined): string {
  if (url === undefined) return '/';
  try {
    return new URL(url, 'http://localhost').pathname;
  } catch {
    return '/';
  }
}
