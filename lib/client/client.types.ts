import type { BatchEntry } from '../interfaces/batch-operation.interface.js';

// Spelled from the fetch API itself, so the client needs neither the DOM lib nor Node's types.
/** What `new Headers()` takes. @publicApi */
export type FetchHeadersInit = NonNullable<ConstructorParameters<typeof Headers>[0]>;
/** What `fetch()` takes as its first argument. @publicApi */
export type FetchInput = Parameters<typeof globalThis.fetch>[0];

/** What `fetch()` takes as its second argument. @publicApi */
export type FetchInit = NonNullable<Parameters<typeof globalThis.fetch>[1]>;

/** The `credentials` of a fetch: whether the browser sends and stores cookies. @publicApi */
export type FetchCredentials = NonNullable<FetchInit['credentials']>;

/**
 * Options of {@link BatchClient}.
 * @publicApi
 */
export interface BatchClientOptions {
  /** Full URL of the batch route, e.g. `https://api.example.com/batch`. */
  endpoint: string | URL;
  /** Headers sent with every batch request (the server passes `authorization`, cookies... on to operations). */
  headers?: FetchHeadersInit;
  /** The fetch that sends batches and calls that cannot be batched. Default: the global `fetch`. */
  fetch?: typeof globalThis.fetch;
  /** Most calls in one batch; more are split into several. Default `50`, the server's default `limit`. */
  maxBatchSize?: number;
  /**
   * Most bytes of one batch request's body; calls past it go in the next batch, and a call that
   * no batch can carry alone goes to the underlying fetch. Default `1048576`, the server's
   * default `maxBodyBytes` (keep it <= the server's).
   */
  maxBatchBytes?: number;
  /** Milliseconds `client.fetch` waits to gather calls into one batch. Default `0`: calls made before the event loop turns. */
  windowMs?: number;
  /**
   * The `credentials` of calls that give none, as fetch's own default: `'same-origin'`. Batches
   * are sent with their calls' credentials; calls with different credentials never share one.
   */
  credentials?: FetchCredentials;
  /**
   * Whether to ask for a streamed (NDJSON) reply, where each call resolves as soon as its own
   * operation has finished. A streamed reply carries no `Set-Cookie`, so by default (`'auto'`)
   * the client streams only a batch whose reply could not store a cookie anyway: outside a
   * browser, with `credentials: 'omit'`, or with `'same-origin'` to another origin. `true`
   * always streams (cookies the operations set are lost); `false` never does.
   */
  stream?: boolean | 'auto';
  /**
   * A private HTTP cache (RFC 9111) for the GETs of `client.fetch`: a fresh response costs no
   * round trip, a stale one with a validator goes out with `If-None-Match` or
   * `If-Modified-Since` and its 304 resolves with the kept body. By default (`'auto'`) on in a
   * browser, where a direct fetch would have gone through the browser's cache, and off
   * elsewhere, where the global fetch has none.
   */
  httpCache?: boolean | 'auto';
}

/**
 * One operation of an explicit batch.
 * @publicApi
 */
export interface BatchRequestInit {
  /** Default `GET`. */
  method?: string;
  /** A path of the endpoint's origin (`/todos/1`), or an absolute URL of that origin. */
  url: string;
  headers?: FetchHeadersInit;
  /** A JSON value (sent as JSON) or a string (sent as it is). */
  body?: unknown;
  /** Name for `dependsOn` and {@link ref}. */
  name?: string;
  dependsOn?: string[];
  omitResponseOnSuccess?: boolean;
  /** The atomic group it runs in: one transaction for all its operations (docs/atomic-groups.md). */
  atomicityGroup?: string;
}

/**
 * One entry as {@link BatchClient.stream} yields it, in completion order: the client's side of
 * the server's `BatchOutcome` (`{ index, result }`), with the entry as the reply carries it.
 * @publicApi
 */
export interface BatchEntryOutcome {
  index: number;
  entry: BatchEntry;
}
