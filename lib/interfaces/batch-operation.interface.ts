import type { BATCH_METHODS, DECODED_CONTENT_ENCODINGS } from '../batch.constants.js';

/**
 * An HTTP method an operation may use.
 * @publicApi
 */
export type BatchMethod = (typeof BATCH_METHODS)[number];

/**
 * A content coding an entry's body was decoded from.
 * @publicApi
 */
export type DecodedContentEncoding = (typeof DECODED_CONTENT_ENCODINGS)[number];

/**
 * One logical HTTP request of a batch, as the executor takes it.
 *
 * `url`, header values and string values inside `body` may hold references
 * `{result=NAME:JSONPATH}` to the response body of the operation named `NAME`.
 * @publicApi
 */
export interface BatchOperation {
  /** HTTP method, upper case. */
  method: BatchMethod;
  /** Path and query inside this app, starting with `/` (global prefix included). */
  url: string;
  /** Request headers, names in any case. */
  headers?: Readonly<Record<string, string>>;
  /**
   * Request body. A string is sent as it is (`text/plain` unless a `content-type` header says
   * otherwise), a Buffer as its bytes (`application/octet-stream` unless one says otherwise); any
   * other JSON value is sent as JSON. In the native format, `"bodyEncoding": "base64"` beside a
   * base64 string makes it bytes (a Buffer here).
   */
  body?: unknown;
  /** Name other operations use in `dependsOn` and references. Unique within a batch. */
  name?: string;
  /** Names of operations that must succeed (2xx) before this one runs. */
  dependsOn?: readonly string[];
  /** When true, the operation's entry is `null` if it succeeded (Facebook's option). */
  omitResponseOnSuccess?: boolean;
  /**
   * The atomic group the operation belongs to: the operations sharing it run in request order
   * inside one transaction (the `transaction` option) and succeed or fail together. The name is
   * in the namespace of operation names: `dependsOn` may name the group, which then waits for
   * its commit.
   */
  atomicityGroup?: string;
}

/**
 * What one operation answered.
 * @publicApi
 */
export interface BatchResult {
  /** The operation's method. */
  method: BatchMethod;
  /** The url the operation ran with, references substituted. */
  url: string;
  /** HTTP status code. */
  code: number;
  /** Response headers, names lower case; `set-cookie` is an array. */
  headers: Record<string, string | string[]>;
  /**
   * Response body: parsed JSON for a JSON response, text for a textual one, base64 for anything
   * else (then `bodyEncoding` is `'base64'`). Absent when the response had no body.
   */
  body?: unknown;
  /** `'base64'` when `body` holds a binary response encoded as base64. */
  bodyEncoding?: 'base64';
  /**
   * The content coding (`gzip`, `deflate`, `br`) the app's response came in, when the library
   * decoded it: `body` is then the decoded body, and `content-encoding` and `content-length` are
   * gone from `headers`. A coding it does not decode keeps its header, the body in base64.
   */
  decodedContentEncoding?: DecodedContentEncoding;
}

/**
 * One entry of a batch reply: the operation's result, or `null` when it did not finish before the
 * batch timed out, or succeeded with `omitResponseOnSuccess`.
 * @publicApi
 */
export type BatchEntry = BatchResult | null;

/**
 * A finished operation, as the executor's stream emits it (in completion order).
 * @publicApi
 */
export interface BatchOutcome {
  /** Position of the operation in the batch. */
  index: number;
  /** What it answered; for an operation that was not run, why (424, 400, 504). */
  result: BatchResult;
}
