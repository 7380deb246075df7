import { JSON_MEDIA_TYPE, NDJSON_MEDIA_TYPE as NDJSON } from '../batch.constants.js';
import type {
  BatchEntry,
  BatchOperation,
  BatchResult,
} from '../interfaces/batch-operation.interface.js';
import { BatchEntryMissingError, BatchRejectedError } from './client.errors.js';
import type {
  BatchClientOptions,
  BatchRequestInit,
  FetchCredentials,
  FetchHeadersInit,
  FetchInit,
  FetchInput,
  BatchEntryOutcome,
} from './client.types.js';
import {
  asksForEventStream,
  BATCH_ENVELOPE_BYTES,
  operationBytes,
  requestBodyOf,
} from './call-route.rules.js';
import { closedBeforeHeaders, keepJsonText, sameJsonText, toResponse } from './entry.response.js';
import { bodyOf as bodyTextOf, entryBodiesOf } from './json.spans.js';
import { HttpCache } from './http.cache.js';
import { ndjsonLines } from './ndjson.lines.js';
import {
  CREDENTIALS,
  headersOf,
  hasAny,
  literalTargetOf,
  METHODS,
  parsedIfJson,
  quickCall,
  referencesUnescaped,
  targetOf,
  toOperation,
  type BatchableCall,
  type RedirectMode,
  type Transport,
} from './fetch-call.reader.js';
import {
  clientToken,
  escapeLiteralUrl,
  holdsLiteral,
  holdsOwn,
  escapeResultOpen,
  literalBodyOf,
  stringsHoldLiteral,
  withBodyBytes,
  writtenByAClient,
} from './literal-text.escape.js';
import {
  isPipelinedPath,
  pipelinedBodyNames,
  pipelinedNames,
  renderPipelined,
  UnmatchedPipelinedReference,
} from './pipelined.render.js';
import { CallTarget, type CallOutcome, type PipelinedResponse } from './pipelined.response.js';

/** The statuses fetch follows (the Fetch standard's redirect statuses), and how many times. */
const REDIRECTS: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 20;
/** The request-body headers fetch drops when a redirect turns the request into a GET. */
const BODY_HEADERS: ReadonlySet<string> = new Set([
  'content-encoding',
  'content-language',
  'content-location',
  'content-type',
]);

/** Headers fetch removes from a request it redirects to another origin (as undici does). */
const CROSS_ORIGIN_DROPPED = ['authorization', 'proxy-authorization', 'cookie'] as const;
/**
 * Request modes a batch can stand in for: a `no-cors` call must stay opaque to the page and a
 * `navigate` one is the browser's own, so those go to the underlying fetch unchanged.
 */
const BATCHED_MODES: ReadonlySet<string> = new Set(['cors', 'same-origin']);

/** A `client.fetch` call waiting for its batch. */
interface Pending {
  operation: BatchOperation;
  /** The call as others reference it. */
  readonly target: CallTarget;
  /** The calls its pipelined references point to, by name: held until it is sent. */
  refs: ReadonlyMap<string, CallTarget>;
  /**
   * Its body holds text with `{result=` beside references of the client's own: the client
   * renders them itself, once the calls they read have answered, and sends the body as bytes.
   */
  rendersOwn: boolean;
  /**
   * The response the HTTP cache had when it added validators to the operation: a 304 resolves
   * with it, whatever the cache holds by then.
   */
  validated: BatchResult | undefined;
  /** The call's url, then that of each redirect it follows: its Response's `url`. */
  url: string;
  readonly transport: Transport;
  /** Calls share a batch only when this is the same: credentials, mode and cache mode. */
  readonly key: string;
  /** The call's `redirect` mode, and how many redirects it has followed. */
  readonly redirect: RedirectMode;
  redirects: number;
  /** The call's signal: aborted after the call resolved, it fails the body's read, as fetch's. */
  readonly signal: AbortSignal | undefined;
  readonly resolve: (response: Response) => void;
  readonly reject: (error: unknown) => void;
  settled: boolean;
  /** Takes the call's listener off its signal once the call settled. */
  unlisten?: () => void;
}

/**
 * Sends many requests to a nestjs-batch endpoint in one round trip. `client.fetch` has the
 * signature of the global fetch and batches the calls made close together; `batch` and `stream`
 * send an explicit batch. Results are streamed, so each call resolves as soon as its own
 * operation has finished. No Node-only API: runs in Node 20+ and browsers.
 * @publicApi
 */
export class BatchClient {
  private readonly endpoint: URL;
  private readonly send: typeof globalThis.fetch;
  private readonly headers: FetchHeadersInit | undefined;
  private readonly maxBatchSize: number;
  private readonly maxBatchBytes: number;
  private readonly windowMs: number;
  private readonly credentials: FetchCredentials;
  private readonly streaming: boolean | 'auto';
  private readonly cache: HttpCache | undefined;
  private queue: Pending[] = [];
  /** The prefix of this client's pipelined reference names: `~<random>.` (literal-text.escape.ts). */
  private readonly prefix = `~${clientToken(this)}.`;
  private calls = 0;
  /**
   * Calls that were referenced, by the name their references use: held while pending, and once
   * settled only as long as something else holds them (the promise `client.fetch` gave).
   */
  private readonly targets = new Map<string, CallTarget | WeakRef<CallTarget>>();
  /** The size of `targets` at which the names of collected calls are next dropped. */
  private sweepAt = 64;
  /** Cancels the flush the batch window scheduled. */
  private timer: (() => void) | undefined;

  constructor(options: BatchClientOptions) {
    const base = (globalThis as { location?: { href: string } }).location?.href;
    this.endpoint = new URL(options.endpoint, base);
    this.send = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.headers = options.headers;
    this.maxBatchSize = options.maxBatchSize ?? 50;
    this.windowMs = options.windowMs ?? 0;
    if (!Number.isInteger(this.maxBatchSize) || this.maxBatchSize < 1) {
      throw new TypeError('BatchClient: maxBatchSize must be an integer >= 1');
    }
    this.maxBatchBytes = options.maxBatchBytes ?? 1024 * 1024;
    if (!Number.isInteger(this.maxBatchBytes) || this.maxBatchBytes < 1) {
      throw new TypeError('BatchClient: maxBatchBytes must be an integer >= 1');
    }
    if (!(this.windowMs >= 0)) throw new TypeError('BatchClient: windowMs must be >= 0');
    this.credentials = options.credentials ?? 'same-origin';
    if (!CREDENTIALS.has(this.credentials)) {
      throw new TypeError("BatchClient: credentials must be 'omit', 'same-origin' or 'include'");
    }
    const httpCache = options.httpCache ?? 'auto';
    if (httpCache !== 'auto' && typeof httpCache !== 'boolean') {
      throw new TypeError("BatchClient: httpCache must be true, false or 'auto'");
    }
    // 'auto': where a direct fetch goes through an HTTP cache, a browser's, so does client.fetch.
    if (httpCache === true || (httpCache === 'auto' && pageOrigin() !== undefined)) {
      this.cache = new HttpCache();
    }
    this.streaming = options.stream ?? 'auto';
    if (this.streaming !== 'auto' && typeof this.streaming !== 'boolean') {
      throw new TypeError("BatchClient: stream must be true, false or 'auto'");
    }
  }

  /**
   * The global fetch's signature, batched: calls made within `windowMs` go out as one batch
   * (split past `maxBatchSize`), and each resolves to its own `Response` as soon as its operation
   * has finished. A call to another origin, with a method or body a batch cannot carry
   * (FormData, Blob, streams), or a `mode` of `no-cors` or `navigate` or the `cache` mode
   * `only-if-cached`, goes to the underlying fetch unchanged. Calls share a batch only when their
   * `credentials`, `mode` and `cache` are the same, and the batch is sent with their credentials
   * and mode. An aborted signal removes a call from a batch not yet sent. A call ends as fetch's
   * would: redirects followed as its `redirect` says (the endpoint's origin in the next batch,
   * another with the underlying fetch), a response dropped after its headers resolved with them
   * and its body failing to read, one dropped before them rejected with a TypeError.
   */
  readonly fetch = (input: FetchInput, init?: FetchInit): PipelinedResponse => {
    const target = new CallTarget(++this.calls);
    const named = (path: string): string => {
      target.name ??= this.hold(target, `${this.prefix}${target.seq}`);
      return `{result=${target.name}:${path}}`;
    };
    return Object.assign(this.call(input, init, target), {
      ref: (path: string): string => {
        if (!isPipelinedPath(path)) {
          throw new TypeError(
            `BatchClient: ref("${path}"): a pipelined path is singular, of .name, ['name'] and [index] steps from $`,
          );
        }
        return named(path);
      },
      header: (name: string): string => {
        if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || /^set-cookie2?$/i.test(name)) {
          throw new TypeError(`BatchClient: header("${name}") cannot be referenced`);
        }
        return named(`@header.${name.toLowerCase()}`);
      },
      status: (): string => named('@status'),
      location: (): string => named('@location'),
    });
  };

  private async call(input: FetchInput, init: FetchInit | undefined, target: CallTarget) {
    try {
      return await this.enter(input, init, target);
    } catch (error) {
      target.settle(error instanceof Error ? error : new Error(String(error)));
      throw error;
    }
  }

  private async enter(
    input: FetchInput,
    init: FetchInit | undefined,
    target: CallTarget,
  ): Promise<Response> {
    // Most calls are a path and a string body: read without a Request, whose stream, signal and
    // checks cost more than the rest of the call, and without awaiting anything, so that the
    // call is queued at once.
    const call = quickCall(input, init, this.endpoint) ?? (await this.requestCall(input, init));
    if ('direct' in call) {
      target.settle(outcomeOfResponse(call.direct));
      return call.direct;
    }
    const { url, signal } = call;
    signal?.throwIfAborted();
    const credentials = call.credentials ?? this.credentials;
    // Text holding `{result=` that no client wrote goes where the server reads none.
    const own = writtenByAClient;
    let { operation } = call;
    operation.url = escapeLiteralUrl(operation.url, own);
    let literalBody = literalBodyOf(operation.body, own);
    if (literalBody === 'bytes') operation = withBodyBytes(operation);
    else if (typeof operation.body === 'string' && holdsOwn(operation.body, own)) {
      operation.body = parsedIfJson(operation.body, operation.headers?.['content-type'] ?? '');
      // Parsed, a JSON escape (`\u007b`) may have written a `{result=` of the page's text.
      if (stringsHoldLiteral(operation.body, own)) literalBody = 'rendered';
    }
    const refs = new Map<string, CallTarget>();
    for (const name of pipelinedNames(operation)) {
      // A name no client wrote is the page's text; another client's reference is a mistake.
      if (!own(name)) continue;
      const held = this.targets.get(name);
      const referenced = held instanceof WeakRef ? held.deref() : held;
      if (!referenced) {
        throw new TypeError(
          `BatchClient: {result=${name}:...} is not a pending call of this client, nor a settled one whose promise is still held`,
        );
      }
      refs.set(name, referenced);
    }
    let validated: BatchResult | undefined;
    if (this.cache && operation.method === 'GET' && refs.size === 0) {
      const cached = this.cache.lookup(operation, call.cache);
      if (cached?.kind === 'fresh') {
        target.settle(outcomeOf(cached.result));
        return toResponse(cached.result, url);
      }
      if (cached?.kind === 'validate') {
        operation.headers = { ...operation.headers, ...cached.headers };
        validated = cached.result;
      }
    }
    const transport: Transport = { credentials, mode: call.mode };
    const key = `${credentials} ${transport.mode} ${call.cache}`;
    return new Promise<Response>((resolve, reject) => {
      const pending: Pending = {
        operation,
        target,
        refs,
        rendersOwn: literalBody === 'rendered',
        validated,
        url,
        transport,
        key,
        redirect: call.redirect,
        redirects: 0,
        signal,
        resolve,
        reject: (error: unknown) => {
          target.settle(error instanceof Error ? error : new Error(String(error)));
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
          reject(error);
        },
        settled: false,
      };
      if (signal) {
        const onAbort = (): void => {
          this.queue = this.queue.filter((queued) => queued !== pending);
          // As the global fetch does: the signal's reason, whatever the caller made it.
          settle(pending, () => pending.reject(signal.reason));
        };
        signal.addEventListener('abort', onAbort, { once: true });
        // A page's one signal outlives its calls: a settled call leaves nothing on it.
        pending.unlisten = () => signal.removeEventListener('abort', onAbort);
      }
      this.enqueue(pending);
    });
  }

  /**
   * A call read through a Request, as fetch reads it: its operation, or, when a batch cannot
   * carry it, the Response of the underlying fetch.
   */
  private async requestCall(
    input: FetchInput,
    init: FetchInit | undefined,
  ): Promise<BatchableCall | { readonly direct: Response }> {
    const request = new Request(this.resolve(input), init);
    const url = new URL(request.url);
    // A Request always has credentials ('same-origin' unless given); a url and init may not.
    const credentials =
      init?.credentials ?? (input instanceof Request ? input.credentials : undefined);
    // A keepalive call must outlive the page (a batch waiting for its window would not), an
    // integrity check is fetch's own, on the bytes it read, and a referrer of the call's own is
    // the Referer the browser sends (the batch's operations inherit the page's): all go to the
    // underlying fetch.
    const batched =
      url.origin === this.endpoint.origin &&
      BATCHED_MODES.has(request.mode) &&
      request.cache !== 'only-if-cached' &&
      !request.keepalive &&
      request.integrity === '' &&
      request.referrer === 'about:client' &&
      request.referrerPolicy === '' &&
      // An event stream is read as it arrives, and does not end soon: an entry comes only at
      // the end of its operation, and would hold the calls batched with it meanwhile.
      !asksForEventStream(request.headers.get('accept')) &&
      // No escape for a header: one holding `{result=` as text goes as it is.
      ![...request.headers.values()].some((value) => holdsLiteral(value, writtenByAClient));
    const operation = batched && (await toOperation(request, url));
    if (!operation) {
      // URL parsing escaped the braces of a reference in the url.
      const written = request.url.replace(/%7B/gi, '{').replace(/%7D/gi, '}');
      const pipelined = [...request.headers.values(), written];
      if (pipelined.some((text) => holdsOwn(text, writtenByAClient))) {
        throw new TypeError(
          'BatchClient: a call that cannot be batched cannot use a pending call (ref, header, status, location)',
        );
      }
      // The Request, not `input`: building it took over the body of a Request given as input.
      // An init resets a Request's referrer and policy (the Fetch standard): given again.
      const direct = await this.send(request, {
        credentials: credentials ?? this.credentials,
        referrer: request.referrer,
        referrerPolicy: request.referrerPolicy,
      });
      if (url.origin === this.endpoint.origin) {
        this.cache?.observed(request.method, targetOf(url), direct.status, direct.headers);
      }
      return { direct };
    }
    return {
      operation,
      url: url.href,
      credentials,
      mode: request.mode as Transport['mode'],
      cache: request.cache,
      signal: request.signal,
      redirect: request.redirect,
    };
  }

  /**
   * Keeps a referenced call findable by its name: strongly until it settles, then weakly, so
   * that a finished call is released with its promise. Names of collected calls are dropped as
   * the map grows. Gives the name.
   */
  private hold(target: CallTarget, name: string): string {
    if (target.done) this.targets.set(name, new WeakRef(target));
    else {
      this.targets.set(name, target);
      void target.settled().then(() => {
        if (this.targets.get(name) === target) this.targets.set(name, new WeakRef(target));
      });
    }
    if (this.targets.size >= this.sweepAt) {
      for (const [key, held] of this.targets) {
        if (held instanceof WeakRef && held.deref() === undefined) this.targets.delete(key);
      }
      this.sweepAt = Math.max(64, this.targets.size * 2);
    }
    return name;
  }

  private enqueue(pending: Pending): void {
    this.queue.push(pending);
    if (this.queue.length >= this.maxBatchSize) this.flush();
    else this.timer ??= afterWindow(() => this.flush(), this.windowMs);
  }

  /**
   * Sends one batch and resolves, once all have finished, with a settled result per operation,
   * in order, as `Promise.allSettled` gives them: fulfilled with its `Response`, or rejected with
   * a {@link BatchEntryMissingError} when the server gave no entry (timed out, or omitted on
   * success), or a TypeError when the server's CORS policy hides the response from this page
   * (`reason: 'cors'`) or the app's response closed before its headers, as `fetch` rejects
   * then. A 4xx or 5xx entry is a fulfilled Response, as `fetch` gives it; so is a response
   * that closed after its headers, with them, its body failing to read. Redirects are not
   * followed.
   * @throws BatchRejectedError when the server refuses the batch; the fetch's own error on a
   *   network failure
   */
  async batch(requests: readonly BatchRequestInit[]): Promise<PromiseSettledResult<Response>[]> {
    const operations = requests.map((request) => this.operationOf(request));
    const results: PromiseSettledResult<Response>[] = [];
    for await (const { index, entry } of this.streamOperations(operations)) {
      const operation = operations[index];
      if (operation) results[index] = settled(this.responseOf(operation, index, entry));
    }
    return operations.map(
      (_operation, index) =>
        results[index] ?? settled(new BatchEntryMissingError(index, 'timeout')),
    );
  }

  /**
   * Sends one batch and yields each entry as its operation finishes (completion order). Reads
   * as fast as the loop pulls; leaving the loop closes the connection and the server starts
   * nothing more of the batch.
   * @throws BatchRejectedError, or the fetch's own error
   */
  stream(requests: readonly BatchRequestInit[]): AsyncGenerator<BatchEntryOutcome> {
    return this.streamOperations(requests.map((request) => this.operationOf(request)));
  }

  /**
   * @param cut aborts the batch request once its calls are abandoned (see `dispatch`); followed
   *   only when the reply is streamed.
   * @param replied told of the reply once it came: its `Date` is the server's clock.
   */
  private async *streamOperations(
    operations: readonly BatchOperation[],
    transport: Transport = { credentials: this.credentials, mode: 'cors' },
    cut?: AbortSignal,
    replied?: (reply: Response) => void,
  ): AsyncGenerator<BatchEntryOutcome> {
    const streamed = this.streams(transport.credentials);
    const headers = new Headers(this.headers);
    headers.set('content-type', 'application/json');
    headers.set('accept', streamed ? `${NDJSON}, application/json;q=0.5` : 'application/json');
    const reply = await this.send(this.endpoint, {
      method: 'POST',
      headers,
      body: JSON.stringify({ data: operations }),
      credentials: transport.credentials,
      mode: transport.mode,
      // A whole JSON reply is not cut: its Set-Cookie holds the cookies of operations that
      // finished, which the browser would have stored from their own responses.
      ...(streamed && cut ? { signal: cut } : {}),
    });
    if (!reply.ok) throw await rejection(reply);
    replied?.(reply);
    if (!reply.headers.get('content-type')?.startsWith(NDJSON) || !reply.body) {
      // A server that does not stream answers the whole batch as JSON, in order.
      const text = await reply.text();
      const { data } = JSON.parse(text) as { data: BatchEntry[] };
      // Only where a Response may give a JSON body's text: most replies hold some.
      const texts = data.some(hasJsonBody) ? entryBodiesOf(text) : [];
      for (const [index, entry] of data.entries()) {
        const json = texts[index];
        if (entry && json !== undefined && hasJsonBody(entry)) keepJsonText(entry, json);
        yield { index, entry };
      }
      return;
    }
    const lines = ndjsonLines(reply.body, (value, line) => {
      const entry = value as NonNullable<BatchEntry>;
      if (hasJsonBody(entry)) {
        const json = bodyTextOf(line, 0);
        if (json !== undefined) keepJsonText(entry, json);
      }
    });
    for await (const value of lines) {
      const { index, entry, ...result } = value as { index: number; entry?: null };
      yield {
        index,
        entry:
          entry === null ? null : sameJsonText(value as object, result as NonNullable<BatchEntry>),
      };
    }
  }

  /**
   * Whether a batch sent with these credentials may be streamed: only when its reply could not
   * store a cookie anyway, since a streamed reply carries none (see the `stream` option).
   */
  private streams(credentials: FetchCredentials): boolean {
    if (this.streaming !== 'auto') return this.streaming;
    if (credentials === 'omit') return true;
    // Browsers and their workers have a location; elsewhere no fetch stores cookies by default.
    const page = pageOrigin();
    if (page === undefined) return true;
    return credentials === 'same-origin' && page !== this.endpoint.origin;
  }

  /** Sends what is queued: one batch per kind of call, each split past `maxBatchSize`. */
  private flush(): void {
    this.timer?.();
    this.timer = undefined;
    const groups = new Map<string, Pending[]>();
    // In the order of the calls, not of their bodies' reading: referenced calls come first.
    this.queue.sort((a, b) => a.target.seq - b.target.seq);
    for (const call of this.queue) {
      const group = groups.get(call.key);
      if (group) group.push(call);
      else groups.set(call.key, [call]);
    }
    this.queue = [];
    for (const calls of groups.values()) {
      let batch: Pending[] = [];
      let bytes = BATCH_ENVELOPE_BYTES;
      const named = new Set<string>();
      for (const call of calls) {
        // Counted as sent: with the name a referenced call is given below.
        const size = operationBytes(call.operation, call.target.name);
        if (BATCH_ENVELOPE_BYTES + size > this.maxBatchBytes) {
          // No batch request can carry it: the server would refuse the batch, with the calls
          // beside it. Sent as it is (its references substituted first), it is answered as a
          // direct fetch is.
          if (call.refs.size > 0) {
            this.later(call).catch((error: unknown) => settle(call, () => call.reject(error)));
          } else void this.sendAlone(call, call.operation, call.url, false);
          continue;
        }
        if (batch.length === this.maxBatchSize || bytes + size > this.maxBatchBytes) {
          if (batch.length > 0) void this.dispatch(batch);
          batch = [];
          bytes = BATCH_ENVELOPE_BYTES;
          named.clear();
        }
        // A reference to a call outside this batch request, or one the client renders itself
        // (its body holds text with `{result=` too): wait for it, then substitute.
        if (call.rendersOwn || ![...call.refs.keys()].every((name) => named.has(name))) {
          this.later(call).catch((error: unknown) => settle(call, () => call.reject(error)));
          continue;
        }
        // Its references are its dependencies, as the server reads them: no dependsOn.
        const { name } = call.target;
        if (name !== undefined) {
          call.operation = { ...call.operation, name };
          named.add(name);
        }
        batch.push(call);
        bytes += size + 1;
      }
      if (batch.length > 0) void this.dispatch(batch);
    }
  }

  /**
   * A call whose references point to calls sent in another batch request: it waits for them,
   * gets their values substituted, and is queued again. It answers 424 when one of them did not
   * succeed, and 400 when a value is not there, as the server answers for a batch.
   */
  private async later(call: Pending): Promise<void> {
    const outcomes = new Map<string, CallOutcome>();
    const bodies = pipelinedBodyNames(call.operation);
    for (const [name, target] of call.refs) {
      let outcome = await target.settled();
      if (call.settled) return;
      if (!(outcome instanceof Error) && outcome.readBody && bodies.has(name)) {
        try {
          outcome = { ...outcome, body: await outcome.readBody() };
        } catch (error) {
          outcome = error instanceof Error ? error : new Error(String(error));
        }
        if (aborted(call)) return;
      }
      if (outcome instanceof Error || !isSuccess(outcome.status)) {
        this.answer(call, 424, `the call it references ("${name}") did not succeed`);
        return;
      }
      outcomes.set(name, outcome);
    }
    try {
      call.operation = renderPipelined(call.operation, outcomes);
    } catch (error) {
      if (!(error instanceof UnmatchedPipelinedReference)) throw error;
      this.answer(call, 400, `a reference ${error.message}`);
      return;
    }
    call.refs = new Map();
    call.rendersOwn = false;
    // Every reference is substituted: what is left of `{result=`, the page's text or a value
    // substituted, is text, which the server must read no reference in.
    const { operation } = call;
    operation.url = escapeResultOpen(operation.url);
    if (Object.values(operation.headers ?? {}).some((value) => value.includes('{result='))) {
      void this.sendAlone(call, operation, call.url, false);
      return;
    }
    if (stringsHoldLiteral(operation.body, () => false)) call.operation = withBodyBytes(operation);
    this.enqueue(call);
  }

  /** Settles a call the client answers itself, in the shape of the server's error entries. */
  private answer(call: Pending, code: number, message: string): void {
    const entry: BatchResult = {
      method: call.operation.method,
      url: call.operation.url,
      code,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: { statusCode: code, message },
    };
    call.target.settle(outcomeOf(entry));
    settle(call, () => call.resolve(toResponse(entry, call.url)));
  }

  private async dispatch(calls: Pending[]): Promise<void> {
    const operations = calls.map((call) => call.operation);
    // Calls that followed a redirect: another request answers them now.
    const followed = new Set<Pending>();
    // Once every call still waiting for its entry was aborted, the batch request is cut: the
    // server closes the requests of the operations still running, as each aborted fetch would
    // have closed its own, and starts nothing more. One abandoned call among calls still
    // waiting cannot close its operation alone: it runs on until they are answered.
    const unanswered = new Set(calls);
    const cut = new AbortController();
    const cutIfAbandoned = (): void => {
      if (unanswered.size > 0 && [...unanswered].every(aborted)) cut.abort();
    };
    for (const call of calls) call.signal?.addEventListener('abort', cutIfAbandoned);
    // The server's clock, for the cache: an entry carries no `Date` unless the app's policy
    // keeps it, and an `Expires` is read against the clock that wrote it.
    let serverDate: string | undefined;
    try {
      for await (const { index, entry } of this.streamOperations(
        operations,
        calls[0]?.transport,
        cut.signal,
        (reply) => (serverDate = reply.headers.get('date') ?? undefined),
      )) {
        const call = calls[index];
        if (call) unanswered.delete(call);
        if (!call || followed.has(call)) {
          cutIfAbandoned();
          continue;
        }
        const received =
          entry && this.cache
            ? this.cache.received(call.operation, entry, call.validated, serverDate)
            : entry;
        if (received && !call.settled && this.redirected(call, received)) {
          followed.add(call);
          cutIfAbandoned();
          continue;
        }
        let response: Response | Error;
        try {
          response = this.responseOf(call.operation, index, received, call);
        } catch (error) {
          // This call's own failure: the batch's other calls are still answered.
          response = error instanceof Error ? error : new TypeError(String(error));
        }
        call.target.settle(received ? outcomeOf(received) : (response as Error));
        settle(call, () =>
          response instanceof Response ? call.resolve(response) : call.reject(response),
        );
        cutIfAbandoned();
      }
      for (const [index, call] of calls.entries()) {
        if (followed.has(call)) continue;
        settle(call, () => call.reject(new BatchEntryMissingError(index, 'timeout')));
      }
    } catch (error) {
      for (const call of calls) if (!followed.has(call)) settle(call, () => call.reject(error));
    } finally {
      for (const call of calls) call.signal?.removeEventListener('abort', cutIfAbandoned);
    }
  }

  /**
   * Follows a redirect entry as fetch does (the Fetch standard's HTTP-redirect fetch): the
   * request again, to its Location, in the next batch request, or with the underlying fetch
   * when the Location is of another origin; rejects as fetch does past 20 redirects or with
   * `redirect: 'error'`. Gives false when the entry is the call's answer (not a redirect, a
   * redirect without a Location, or `redirect: 'manual'`).
   */
  private redirected(call: Pending, entry: BatchResult): boolean {
    const location = REDIRECTS.has(entry.code) ? headerOf(entry, 'location') : undefined;
    if (location === undefined) return false;
    if (call.redirect === 'manual') {
      // Node's fetch gives the redirect itself; a browser's, an opaque redirect.
      if (pageOrigin() === undefined) return false;
      call.target.settle({ status: 0, headers: {}, body: undefined });
      settle(call, () => call.resolve(opaqueRedirect(call.url)));
      return true;
    }
    let next: URL;
    try {
      next = new URL(location, call.url);
    } catch {
      settle(call, () => call.reject(new TypeError('fetch failed: invalid redirect location')));
      return true;
    }
    if (
      call.redirect === 'error' ||
      call.redirects >= MAX_REDIRECTS ||
      !/^https?:$/.test(next.protocol)
    ) {
      const why =
        call.redirect === 'error'
          ? 'unexpected redirect'
          : call.redirects >= MAX_REDIRECTS
            ? 'redirect count exceeded'
            : 'redirect to another scheme';
      settle(call, () => call.reject(new TypeError(`fetch failed: ${why}`)));
      return true;
    }
    call.redirects++;
    const { method, headers, body } = call.operation;
    const operation: BatchOperation = { method, url: literalTargetOf(next) };
    let kept = headers;
    if (
      ((entry.code === 301 || entry.code === 302) && method === 'POST') ||
      (entry.code === 303 && method !== 'GET' && method !== 'HEAD')
    ) {
      operation.method = 'GET';
      kept = withoutBodyHeaders(headers);
    } else if (body !== undefined) {
      // The same bytes again: a body sent as base64 goes on as base64.
      const { bodyEncoding } = call.operation as { bodyEncoding?: string };
      Object.assign(operation, bodyEncoding === undefined ? { body } : { body, bodyEncoding });
    }
    if (kept && hasAny(kept)) operation.headers = kept;
    if (next.origin !== this.endpoint.origin) {
      void this.sendAlone(call, operation, next, true);
      return true;
    }
    call.url = next.href;
    call.operation = operation;
    call.validated = undefined;
    this.enqueue(call);
    return true;
  }

  /**
   * A call's request, with the underlying fetch: one no batch can carry (`away` false), or, as
   * a redirect to another origin made it (`away`), without the credentials fetch drops there.
   */
  private async sendAlone(
    call: Pending,
    operation: BatchOperation,
    url: URL | string,
    away: boolean,
  ): Promise<void> {
    const headers = new Headers(operation.headers);
    // What fetch drops from a request it redirects to another origin: its credentials
    // (Authorization, Proxy-Authorization, and in Node, where a call may set it, Cookie).
    if (away) for (const name of CROSS_ORIGIN_DROPPED) headers.delete(name);
    try {
      const response = await this.send(url, {
        method: operation.method,
        headers,
        body: requestBodyOf(operation),
        credentials: call.transport.credentials,
        mode: call.transport.mode,
        redirect: call.redirect,
        signal: call.signal,
      });
      if (away) {
        // As fetch says of a response a redirect brought from another origin.
        Object.defineProperty(response, 'redirected', { value: true });
        Object.defineProperty(response, 'type', { value: 'cors' });
      } else if (this.cache && call.validated && response.status === 304) {
        // Validators the cache added: a 304 resolves with the response it kept, as batched.
        const kept = this.cache.received(
          operation,
          { method: operation.method, url: operation.url, code: 304, headers: recordOf(response) },
          call.validated,
          response.headers.get('date') ?? undefined,
        );
        call.target.settle(outcomeOf(kept));
        settle(call, () => call.resolve(toResponse(kept, call.url)));
        return;
      } else {
        this.cache?.observed(operation.method, operation.url, response.status, response.headers);
      }
      call.target.settle(outcomeOfResponse(response));
      settle(call, () => call.resolve(response));
    } catch (error) {
      settle(call, () => call.reject(error));
    }
  }

  private responseOf(
    operation: BatchOperation,
    index: number,
    entry: BatchEntry,
    call?: Pending,
  ): Response | Error {
    // What fetch gives a page for a response its CORS policy hides: a TypeError, nothing else.
    // Not even whether the operation ran: the entry's message says so, a browser's never does
    // (the reason is the server's to log: see the batch listener's `detail`).
    if (entry && isCorsRefusal(entry)) return new TypeError('Failed to fetch');
    // What fetch gives for a connection dropped before the response's headers, and for one
    // that only sent a 1xx (an interim status: Node's fetch waits for a final one, in vain).
    if (entry && entry.code < 200) return new TypeError('fetch failed');
    if (entry && closedBeforeHeaders(entry)) {
      return new TypeError('fetch failed', { cause: new Error(messageOf(entry)) });
    }
    if (entry) {
      // A redirected call's url is the Location's, as written (its operation's may escape it).
      const url = call && call.redirects > 0 ? call.url : new URL(entry.url, this.endpoint).href;
      return toResponse(entry, url, {
        redirected: (call?.redirects ?? 0) > 0,
        signal: call?.signal,
      });
    }
    return new BatchEntryMissingError(
      index,
      operation.omitResponseOnSuccess === true ? 'omitted' : 'timeout',
    );
  }

  private operationOf(request: BatchRequestInit): BatchOperation {
    const url = new URL(request.url, this.endpoint);
    if (url.origin !== this.endpoint.origin) {
      throw new TypeError(`BatchClient: ${request.url} is not on the endpoint's origin`);
    }
    // A path is sent as written: URL parsing would escape the braces of its references, which
    // an explicit batch writes on purpose (`ref()`), whatever their names.
    const path = /^\/(?!\/)/.test(request.url) ? request.url : referencesUnescaped(url);
    const method = (request.method ?? 'GET').toUpperCase();
    if (!METHODS.has(method)) throw new TypeError(`BatchClient: ${method} cannot be batched`);
    const operation: BatchOperation = { method: method as BatchOperation['method'], url: path };
    const headers = headersOf(new Headers(request.headers));
    if (hasAny(headers)) operation.headers = headers;
    if (request.body !== undefined) operation.body = request.body;
    if (request.name !== undefined) operation.name = request.name;
    if (request.dependsOn !== undefined) operation.dependsOn = request.dependsOn;
    if (request.omitResponseOnSuccess !== undefined) {
      operation.omitResponseOnSuccess = request.omitResponseOnSuccess;
    }
    if (request.atomicityGroup !== undefined) operation.atomicityGroup = request.atomicityGroup;
    return operation;
  }

  private resolve(input: FetchInput): string | URL | Request {
    return typeof input === 'string' ? new URL(input, this.endpoint) : input;
  }
}

/**
 * Runs `work` after `ms`; with 0, once the event loop turns (in Node before any timer, which
 * waits at least 1 ms). Gives how to cancel it.
 */
function afterWindow(work: () => void, ms: number): () => void {
  if (ms === 0 && typeof setImmediate === 'function') {
    const immediate = setImmediate(work);
    return () => clearImmediate(immediate);
  }
  const timer = setTimeout(work, ms);
  return () => clearTimeout(timer);
}

/**
 * What a browser's fetch gives for a redirect with `redirect: 'manual'`: a Response of type
 * `opaqueredirect`, status 0, no headers and no body, whose url is the request's.
 */
function opaqueRedirect(url: string): Response {
  const response = Response.error();
  Object.defineProperty(response, 'type', { value: 'opaqueredirect' });
  Object.defineProperty(response, 'url', { value: url });
  return response;
}

/** An operation's headers less those that describe its body. */
function withoutBodyHeaders(
  headers: Record<string, string> | undefined,
): Record<string, string> | undefined {
  if (headers === undefined) return undefined;
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!BODY_HEADERS.has(name.toLowerCase())) kept[name] = value;
  }
  return kept;
}

/** One header of an entry, its first value when it has several. */
function headerOf(entry: BatchResult, name: string): string | undefined {
  const value = entry.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The server's reason for refusing a batch, from Nest's `{ message }` error body when it has one. */
async function rejection(reply: Response): Promise<BatchRejectedError> {
  const text = await reply.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: the text is the message.
  }
  const message = (body as { message?: unknown } | null)?.message;
  const reason = Array.isArray(message) ? message.join('; ') : message;
  return new BatchRejectedError(
    reply.status,
    typeof reason === 'string' ? reason : text || `the batch was refused with ${reply.status}`,
    body,
  );
}

/** The origin of the page (or worker) the client runs in; undefined outside a browser. */
function pageOrigin(): string | undefined {
  return (globalThis as { location?: { origin?: string } }).location?.origin;
}

/** What references read of an entry. */
function outcomeOf(entry: BatchResult): CallOutcome {
  return {
    status: entry.code,
    headers: entry.headers,
    body: entry.bodyEncoding === 'base64' ? undefined : entry.body,
  };
}

/**
 * What references read of a Response the underlying fetch gave: its status and headers, and a
 * copy of a JSON or text body (not an event stream, which may never end), read when a reference
 * first needs it; the copy goes with the call's promise.
 */
/** A Response's headers as an entry keeps them. */
function recordOf(response: Response): Record<string, string> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  return headers;
}

/**
 * What references read of a call the underlying fetch answered: its status and headers, and a
 * copy of its JSON or text body, read when a reference needs it (CONTRIBUTING.md, Known gaps:
 * the copy tees the stream).
 */
function outcomeOfResponse(response: Response): CallOutcome {
  const headers = recordOf(response);
  const type = headers['content-type'] ?? '';
  const readable =
    response.body !== null &&
    (JSON_MEDIA_TYPE.test(type) || (/^text\//i.test(type) && !/^text\/event-stream/i.test(type)));
  if (!readable) return { status: response.status, headers, body: undefined };
  const copy = response.clone();
  let body: Promise<unknown> | undefined;
  const readBody = (): Promise<unknown> =>
    (body ??= copy.text().then((text) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return text; // Not JSON: references read the text.
      }
    }));
  return { status: response.status, headers, body: undefined, readBody };
}

function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

/** The server's entry for an operation the page could not have made itself (reason `cors`). */
function isCorsRefusal(entry: BatchResult): boolean {
  const body = entry.body as { reason?: unknown } | null | undefined;
  return entry.code === 403 && typeof body === 'object' && body?.reason === 'cors';
}

/** The message of an entry the library wrote. */
function messageOf(entry: BatchResult): string {
  const { message } = entry.body as { message?: unknown };
  return typeof message === 'string' ? message : `the server answered ${entry.code}`;
}

function settled(outcome: Response | Error): PromiseSettledResult<Response> {
  return outcome instanceof Response
    ? { status: 'fulfilled', value: outcome }
    : { status: 'rejected', reason: outcome };
}

/** Whether an entry has a body the app gave as JSON: its Response gives that body's text. */
function hasJsonBody(entry: BatchEntry | undefined): boolean {
  if (!entry || entry.body === undefined || entry.bodyEncoding === 'base64') return false;
  const type = entry.headers['content-type'];
  return JSON_MEDIA_TYPE.test(Array.isArray(type) ? type.join(',') : (type ?? ''));
}

/** Whether a call settled meanwhile (its signal aborted it while it waited). */
function aborted(call: Pending): boolean {
  return call.settled;
}

function settle(call: Pending, action: () => void): void {
  if (call.settled) return;
  call.settled = true;
  call.unlisten?.();
  action();
}
