import { CookieJar } from 'tough-cookie';
import type { DispatchRequest } from '../dispatch/operation.dispatcher.js';
import type { ParentContext } from '../dispatch/parent.context.js';
import type { BatchOperation, BatchResult } from '../interfaces/batch-operation.interface.js';
import { headerBlockBytes, MAX_OPERATION_HEADER_BYTES } from '../validation/header.rules.js';
import { InvalidRenderedRequestError } from './operation.request.js';

/** Cookies a Set-Cookie cannot be stored from are skipped, as a browser skips them. */
const LENIENT = { ignoreError: true } as const;

/**
 * The cookies of one batch, as a browser would hold them between the batch's requests. Starts
 * with the batch request's own cookies (those it inherits: none for a batch a browser may have
 * sent cross-site without a preflight), takes in each operation's `Set-Cookie` as it answers,
 * with RFC 6265 semantics (Path, Domain, Expires/Max-Age, deletion, Secure, HttpOnly, prefixes;
 * tough-cookie), and gives each operation that starts afterwards the cookies that apply to its
 * url. An operation ordered after another (`dependsOn`, a reference) therefore sees the cookies
 * it set; one running in parallel may or may not. Made per batch, never shared.
 *
 * The batch request's cookies are sent on as the browser sent them, in its order, duplicates
 * (one name on several paths, most specific first) and nameless ones kept: their attributes are
 * unknown, so no jar can rebuild that order. A name an operation has since set or deleted is no
 * longer inherited: the jar's cookies of that name take its place. The jar's cookies follow.
 *
 * Every operation is taken as a request over HTTPS to the batch request's host: operations never
 * leave the process, so a Secure cookie a proxy-terminated app sets is kept as its browser would.
 */
export class BatchCookieJar {
  /**
   * Made when an operation first sets a cookie, as are the origin and the inherited pairs: most
   * batches set none, and every operation of those keeps the batch's header untouched.
   */
  private stored: CookieJar | undefined;
  private originText: string | undefined;
  /** The batch request's cookie pairs, as sent. */
  private inheritedPairs: readonly string[] | undefined;
  /** Names an operation set or deleted: inherited pairs of these names are no longer sent. */
  private readonly replaced = new Set<string>();
  /** False until an operation set a cookie: until then, every operation keeps the batch's header. */
  private changed = false;

  constructor(private readonly parent: ParentContext) {}

  private get jar(): CookieJar {
    return (this.stored ??= new CookieJar());
  }

  private get origin(): string {
    return (this.originText ??= originOf(this.parent.headers.host));
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
    const pairs = this.inherited.filter((pair) => !this.replaced.has(nameOf(pair)));
    const stored = this.jar.getCookieStringSync(this.urlOf(request.url));
    if (stored !== '') pairs.push(stored);
    const cookie = pairs.join('; ');
    if (cookie === '') delete request.headers.cookie;
    else request.headers.cookie = cookie;
    if (headerBlockBytes(request.headers) > MAX_OPERATION_HEADER_BYTES) {
      throw new InvalidRenderedRequestError(
        `headers take more than ${MAX_OPERATION_HEADER_BYTES} bytes with the batch's cookies added, more than a request of its own may carry (--max-http-header-size)`,
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
      stored: this.stored?.cloneSync(),
      originText: this.originText,
      inheritedPairs: this.inheritedPairs,
      replaced: new Set(this.replaced),
      changed: this.changed,
    });
  }

  /** Takes in the cookies an operation's response sets. */
  store(result: BatchResult): void {
    const setCookie = result.headers['set-cookie'];
    if (setCookie === undefined) return;
    const url = this.urlOf(result.url);
    for (const value of Array.isArray(setCookie) ? setCookie : [setCookie]) {
      const stored = this.jar.setCookieSync(value, url, LENIENT);
      if (stored) this.replaced.add(stored.key);
      this.changed = true;
    }
  }

  private urlOf(path: string): string {
    return `${this.origin}${path.startsWith('/') ? path : `/${path}`}`;
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
