import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type {
  AbandonDispatch,
  DispatchRequest,
  DispatchResponse,
  OperationDispatcher,
} from '../dispatch/operation.dispatcher.js';
import { SettleOnce } from '../dispatch/operation.task.js';
import type { ParentContext } from '../dispatch/parent.context.js';
import { ResponseAbortedError } from '../dispatch/response.aborted.js';
import type { BatchResult } from '../interfaces/batch-operation.interface.js';
import {
  corsCheckProblem,
  corsUnsafeHeaderNames,
  crossOriginOf,
  exposedHeaders,
  needsPreflight,
  preflightProblem,
  type ResponseHeaders,
} from '../policy/cors.rules.js';
import { AMBIENT_CREDENTIAL_HEADERS } from '../policy/cross-site.rules.js';
import { cookieHeadersOf, hideClearSiteData, type CookieHeaders } from './cookie.rules.js';

/**
 * An operation of a cross-origin batch that the page which sent the batch could not have made
 * directly: the browser would not have sent it (its preflight failed), or would not have let the
 * page read the answer. `ran`: the app ran it (its answer is hidden) or not. The message is what
 * the page may learn (fetch() gives it a bare network error); `detail` is why, which a browser
 * shows its developer, not its script: for the server's events and log.
 */
export class OperationCorsError extends Error {
  constructor(
    message: string,
    readonly ran: boolean,
    /** The answer's cookies: a browser applies them even from a response the page may not read. */
    readonly cookies: CookieHeaders | undefined,
    /** Why CORS refused it, as the check found it. */
    readonly detail: string,
  ) {
    super(message);
  }
}

const NOT_IN_A_PREFLIGHT: ReadonlySet<string> = new Set([
  ...AMBIENT_CREDENTIAL_HEADERS,
  'content-type',
  'content-length',
]);

/**
 * CORS for each operation of a batch a page of another origin made a browser send: the batch
 * stands in for that page's requests, so each operation gets what the browser would give the
 * request sent directly. One that is not a CORS-safelisted request first gets the browser's
 * preflight (OPTIONS with Origin and Access-Control-Request-*), through the app's own pipeline,
 * and runs only if the app's answer allows it; after it runs, the page reads its answer only if
 * the response allows the origin (with credentials, when the batch carried them), and then only
 * the safelisted and exposed headers. Made per batch, only for a cross-origin one.
 */
export class OperationCors {
  private constructor(
    /** The origin of the page that sent the batch. */
    readonly origin: string,
    private readonly batch: IncomingHttpHeaders,
  ) {}

  /** For a batch request a page of another origin sent; undefined otherwise. */
  static of(request: IncomingMessage | undefined): OperationCors | undefined {
    if (request === undefined) return undefined;
    const origin = crossOriginOf(request);
    return origin === undefined ? undefined : new OperationCors(origin, request.headers);
  }

  /**
   * The batch's dispatcher, with the preflight before each operation that needs one and the CORS
   * check of each answer: an operation the page could not have made, or whose answer it could
   * not read, fails with an {@link OperationCorsError}.
   */
  dispatcher(inner: OperationDispatcher): OperationDispatcher {
    return {
      dispatch: (request, parent, done, fail) => this.dispatch(inner, request, parent, done, fail),
    };
  }

  /**
   * Keeps of a readable answer's headers those the page may read, and `set-cookie`, which the
   * reply relays to the browser (and no entry carries). A `Clear-Site-Data` the page may not read
   * is applied all the same: kept apart for the jar and the reply.
   */
  expose(result: BatchResult, response: ResponseHeaders, credentialed: boolean): void {
    const readable = exposedHeaders(response, credentialed);
    const clearSiteData = result.headers['clear-site-data'];
    if (clearSiteData !== undefined && !readable('clear-site-data')) {
      hideClearSiteData(result, clearSiteData);
    }
    const kept: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(result.headers)) {
      if (readable(name) || name === 'set-cookie' || name === 'set-cookie2') kept[name] = value;
    }
    result.headers = kept;
    // Which coding the app used is a header the page may not read either.
    if (!readable('content-encoding')) delete result.decodedContentEncoding;
  }

  /** Whether the request carries the user's credentials, as the browser attached them. */
  credentialed(request: DispatchRequest, parent: ParentContext): boolean {
    return request.headers.cookie !== undefined || parent.headers.authorization !== undefined;
  }

  private dispatch(
    inner: OperationDispatcher,
    request: DispatchRequest,
    parent: ParentContext,
    done: (response: DispatchResponse) => void,
    fail: (error: unknown) => void,
  ): AbandonDispatch {
    const credentialed = this.credentialed(request, parent);
    const hidden = (
      headers: Readonly<Record<string, string | string[]>>,
    ): OperationCorsError | undefined => {
      const problem = corsCheckProblem(headers, this.origin, credentialed);
      if (problem === undefined) return undefined;
      return new OperationCorsError(
        `ran, but CORS did not allow a page of ${this.origin} to read its response`,
        true,
        cookieHeadersOf(headers),
        `the response's headers fail the CORS check for ${this.origin}: ${problem}`,
      );
    };
    const checked = (response: DispatchResponse): void => {
      const refusal = hidden(response.headers);
      if (refusal === undefined) done(response);
      else fail(refusal);
    };
    // fetch() checks CORS as the headers arrive, before any body: a response dropped after
    // headers the page may not read is a CORS failure to it, and one dropped before them
    // tells it nothing of what the app had set (the status).
    const failed = (error: unknown): void => {
      if (!(error instanceof ResponseAbortedError) || error.sentStatus === undefined) {
        return fail(error);
      }
      if (error.sentHeaders === undefined) return fail(new ResponseAbortedError(undefined));
      fail(hidden(error.sentHeaders) ?? error);
    };
    const run = (): AbandonDispatch => this.run(inner, request, parent, hidden, checked, failed);
    const unsafe = corsUnsafeHeaderNames(request.headers, this.batch);
    if (!needsPreflight(request.method, unsafe)) return run();
    // An object, not a `let`: it changes inside the callbacks, perhaps before dispatch returns.
    const state: { abandon: AbandonDispatch | undefined; abandoned: boolean } = {
      abandon: undefined,
      abandoned: false,
    };
    // Only that it failed: fetch() rejects with a network error that tells the page nothing of
    // the preflight's answer (its status, its headers) nor why it did not allow the request.
    const refuse = (why: string): void =>
      fail(
        new OperationCorsError(
          `was not run: a page of ${this.origin} could not have sent it, as its browser's preflight (OPTIONS) did not allow it`,
          false,
          undefined,
          `its preflight (OPTIONS) for ${this.origin} did not allow it: ${why}`,
        ),
      );
    const abandonPreflight = inner.dispatch(
      this.preflightOf(request, parent, unsafe),
      parent,
      (answer) => {
        if (state.abandoned) return;
        const problem = preflightProblem(answer, this.origin, credentialed, request.method, unsafe);
        if (problem !== undefined) return refuse(problem);
        try {
          state.abandon = run();
        } catch (error) {
          fail(error);
        }
      },
      (error) => {
        if (!state.abandoned) refuse(`it ended without an answer: ${String(error)}`);
      },
    );
    // What a preflight had sent is not the operation's: the browser keeps nothing of it.
    state.abandon ??= () => {
      abandonPreflight();
      return undefined;
    };
    return () => {
      state.abandoned = true;
      return state.abandon?.();
    };
  }

  /**
   * Runs the operation, checked as fetch() checks it: at its headers, when they go out before
   * its end (a response that streams on): one the page may not read fails there, and is
   * abandoned, as the browser drops the request; else at its answer.
   */
  private run(
    inner: OperationDispatcher,
    request: DispatchRequest,
    parent: ParentContext,
    hidden: (headers: Record<string, string | string[]>) => OperationCorsError | undefined,
    done: (response: DispatchResponse) => void,
    fail: (error: unknown) => void,
  ): AbandonDispatch {
    const once = new SettleOnce();
    // An object, not a `let`: the headers may go out before dispatch returns.
    const state: { abandon: AbandonDispatch | undefined; refused: boolean } = {
      abandon: undefined,
      refused: false,
    };
    const watched: DispatchRequest = {
      ...request,
      headersSent: (statusCode, headers) => {
        request.headersSent?.(statusCode, headers);
        const refusal = hidden(headers);
        if (refusal === undefined || !once.end()) return;
        state.refused = true;
        state.abandon?.();
        fail(refusal);
      },
    };
    state.abandon = inner.dispatch(
      watched,
      parent,
      (response) => {
        if (once.end()) done(response);
      },
      (error) => {
        if (once.end()) fail(error);
      },
    );
    if (state.refused) state.abandon();
    return () => (once.end() ? state.abandon?.() : undefined);
  }

  /**
   * The preflight the browser would send: OPTIONS to the same url, with what the browser sends
   * of its own (Origin, fetch metadata, User-Agent, the connection's forwarding headers), the
   * method and the unsafe header names, and no credentials nor body.
   */
  private preflightOf(
    request: DispatchRequest,
    parent: ParentContext,
    unsafe: readonly string[],
  ): DispatchRequest {
    const headers: Record<string, string> = { accept: '*/*' };
    for (const [name, value] of Object.entries(parent.headers)) {
      if (!NOT_IN_A_PREFLIGHT.has(name)) headers[name] = value;
    }
    headers['access-control-request-method'] = request.method;
    if (unsafe.length > 0) headers['access-control-request-headers'] = unsafe.join(',');
    return {
      method: 'OPTIONS',
      url: request.url,
      headers,
      body: undefined,
      // A request of its own: what the library notes of it (a refusal) is not the operation's.
      info: { ...request.info },
      runIn: request.runIn,
    };
  }
}
