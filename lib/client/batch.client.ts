import {
  BATCH_METHODS,
  FORBIDDEN_OPERATION_HEADERS,
  JSON_MEDIA_TYPE,
  NDJSON_MEDIA_TYPE as NDJSON,
} from '../batch.constants.js';
import type { BatchEntry, BatchOperation } from '../interfaces/batch-operation.interface.js';
import { BatchEntryMissingError, BatchRejectedError } from './client.errors.js';
import type {
  BatchClientOptions,
  BatchRequestInit,
  FetchHeadersInit,
  FetchInput,
  BatchEntryOutcome,
} from './client.types.js';
import { toResponse } from './entry.response.js';
import { ndjsonLines } from './ndjson.lines.js';

const METHODS: ReadonlySet<string> = new Set(BATCH_METHODS);
const FORBIDDEN: ReadonlySet<string> = new Set(FORBIDDEN_OPERATION_HEADERS);

/** A `client.fetch` call waiting for its batch. */
interface Pending {
  readonly operation: BatchOperation;
  readonly url: string;
  readonly resolve: (response: Response) => void;
  readonly reject: (error: unknown) => void;
  settled: boolean;
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
  private readonly windowMs: number;
  private queue: Pending[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;

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
    if (!(this.windowMs >= 0)) throw new TypeError('BatchClient: windowMs must be >= 0');
  }

  /**
   * The global fetch's signature, batched: calls made within `windowMs` go out as one batch
   * (split past `maxBatchSize`), and each resolves to its own `Response` as soon as its operation
   * has finished. A call to another origin, with a method or body a batch cannot carry
   * (FormData, Blob, streams), goes to the underlying fetch unchanged. An aborted signal removes
   * a call from a batch not yet sent.
   */
  readonly fetch = async (input: FetchInput, init?: RequestInit): Promise<Response> => {
    const request = new Request(this.resolve(input), init);
    const url = new URL(request.url);
    const operation = url.origin === this.endpoint.origin && (await toOperation(request, url));
    // The Request, not `input`: building it took over the body of a Request given as input.
    if (!operation) return this.send(request);
    request.signal.throwIfAborted();
    return new Promise<Response>((resolve, reject) => {
      const pending: Pending = { operation, url: url.href, resolve, reject, settled: false };
      this.queue.push(pending);
      request.signal.addEventListener(
        'abort',
        () => {
          this.queue = this.queue.filter((queued) => queued !== pending);
          // As the global fetch does: the signal's reason, whatever the caller made it.
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
          settle(pending, () => reject(request.signal.reason));
        },
        { once: true },
      );
      if (this.queue.length >= this.maxBatchSize) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.windowMs);
    });
  };

  /**
   * Sends one batch and resolves, once all have finished, with a settled result per operation,
   * in order, as `Promise.allSettled` gives them: fulfilled with its `Response`, or rejected with
   * a {@link BatchEntryMissingError} when the server gave no entry (timed out, or omitted on
   * success). A 4xx or 5xx entry is a fulfilled Response, as `fetch` gives it.
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

  private async *streamOperations(
    operations: readonly BatchOperation[],
  ): AsyncGenerator<BatchEntryOutcome> {
    const headers = new Headers(this.headers);
    headers.set('content-type', 'application/json');
    headers.set('accept', `${NDJSON}, application/json;q=0.5`);
    const reply = await this.send(this.endpoint, {
      method: 'POST',
      headers,
      body: JSON.stringify({ data: operations }),
    });
    if (!reply.ok) throw await rejection(reply);
    if (!reply.headers.get('content-type')?.startsWith(NDJSON) || !reply.body) {
      // A server that does not stream answers the whole batch as JSON, in order.
      const { data } = (await reply.json()) as { data: BatchEntry[] };
      for (const [index, entry] of data.entries()) yield { index, entry };
      return;
    }
    for await (const value of ndjsonLines(reply.body)) {
      const { index, entry, ...result } = value as { index: number; entry?: null };
      yield { index, entry: entry === null ? null : (result as NonNullable<BatchEntry>) };
    }
  }

  /** Sends what is queued, in batches of at most `maxBatchSize`. */
  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.queue.length > 0) {
      void this.dispatch(this.queue.splice(0, this.maxBatchSize));
    }
  }

  private async dispatch(calls: Pending[]): Promise<void> {
    try {
      for await (const { index, entry } of this.streamOperations(calls.map((c) => c.operation))) {
        const call = calls[index];
        if (!call) continue;
        const response = this.responseOf(call.operation, index, entry);
        settle(call, () =>
          response instanceof Response ? call.resolve(response) : call.reject(response),
        );
      }
      for (const [index, call] of calls.entries()) {
        settle(call, () => call.reject(new BatchEntryMissingError(index, 'timeout')));
      }
    } catch (error) {
      for (const call of calls) settle(call, () => call.reject(error));
    }
  }

  private responseOf(
    operation: BatchOperation,
    index: number,
    entry: BatchEntry,
  ): Response | BatchEntryMissingError {
    if (entry) return toResponse(entry, new URL(entry.url, this.endpoint).href);
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
    // A path is sent as written: URL parsing would escape the braces of its references.
    const path = /^\/(?!\/)/.test(request.url) ? request.url : targetOf(url);
    const method = (request.method ?? 'GET').toUpperCase();
    if (!METHODS.has(method)) throw new TypeError(`BatchClient: ${method} cannot be batched`);
    const operation: BatchOperation = {
      method: method as BatchOperation['method'],
      url: path,
      headers: headersOf(new Headers(request.headers)),
    };
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
 * The operation a Request stands for, or undefined when a batch cannot carry it: a method the
 * server refuses, or a body that is neither JSON nor text.
 */
async function toOperation(request: Request, url: URL): Promise<BatchOperation | undefined> {
  if (!METHODS.has(request.method)) return undefined;
  const operation: BatchOperation = {
    method: request.method as BatchOperation['method'],
    url: targetOf(url),
    headers: headersOf(request.headers),
  };
  if (request.body === null) return operation;
  const type = request.headers.get('content-type') ?? '';
  if (JSON_MEDIA_TYPE.test(type)) {
    const text = await request.text();
    try {
      operation.body = JSON.parse(text) as unknown;
    } catch {
      operation.body = text;
    }
    return operation;
  }
  if (/^text\/|^application\/x-www-form-urlencoded/i.test(type)) {
    operation.body = await request.text();
    return operation;
  }
  return undefined;
}

/**
 * The path and query of a URL, with the references URL parsing escaped (`%7Bresult=...%7D`)
 * turned back into `{result=...}`.
 */
function targetOf(url: URL): string {
  return (url.pathname + url.search).replace(/%7Bresult=(.*?)%7D/gi, (escaped, inner: string) => {
    try {
      return `{result=${decodeURIComponent(inner)}}`;
    } catch {
      return escaped;
    }
  });
}

/** Headers as the server takes them, without those only the batch request may carry. */
function headersOf(headers: Headers): Record<string, string> {
  const plain: Record<string, string> = {};
  headers.forEach((value, name) => {
    if (!FORBIDDEN.has(name)) plain[name] = value;
  });
  return plain;
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

function settled(outcome: Response | BatchEntryMissingError): PromiseSettledResult<Response> {
  return outcome instanceof Response
    ? { status: 'fulfilled', value: outcome }
    : { status: 'rejected', reason: outcome };
}

function settle(call: Pending, action: () => void): void {
  if (call.settled) return;
  call.settled = true;
  action();
}
