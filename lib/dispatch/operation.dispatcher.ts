import type { BatchOperationInfo } from './sub-request.marker.js';
import type { ParentContext } from './parent.context.js';

/** A fully resolved operation, ready to enter the app. */
export interface DispatchRequest {
  readonly method: string;
  readonly url: string;
  /**
   * Final headers, names lower case, `content-type`/`content-length` included when there is a
   * body. Made for this one request: the dispatcher hands the object to the app as it is.
   */
  readonly headers: Record<string, string>;
  readonly body: Buffer | undefined;
  readonly info: BatchOperationInfo;
  /**
   * Runs the app for this operation in the async context it must see: an atomic group's (its
   * transaction). Absent: a fresh context, outside the batch request's.
   */
  readonly runIn?: <T>(fn: () => T) => T;
  /**
   * Called once if the response's headers go out before its end (it writes or flushes them, then
   * streams on): what a client reads of it before any body. A browser checks CORS there.
   */
  readonly headersSent?: (statusCode: number, headers: Record<string, string | string[]>) => void;
}

/** What the app answered to one operation. */
export interface DispatchResponse {
  readonly statusCode: number;
  /** Names lower case; `set-cookie` as an array; no hop-by-hop headers. Owned by the caller. */
  readonly headers: Record<string, string | string[]>;
  /**
   * What `headers` take as sent (`name: value\r\n` each), when the capture counted them as it
   * normalised them: the reply's budget then need not walk them again.
   */
  readonly headerBytes?: number;
  readonly body: Buffer;
  /**
   * The same body as the string the app wrote, when it wrote one UTF-8 string: an entry reads
   * JSON or text from it instead of decoding `body` back from bytes.
   */
  readonly text?: string;
  /** The body went past the byte cap; `body` is incomplete. */
  readonly truncated: boolean;
}

/** The status and headers a response had sent before its end: what a client has read of it. */
export interface SentHeaders {
  readonly statusCode: number;
  /** As an answer's are kept: names lower case, `set-cookie` an array. */
  readonly headers: Readonly<Record<string, string | string[]>>;
}

/**
 * Abandons a dispatched operation (after it, neither callback is called), and tells what its
 * response had sent when it was cut off after its headers (a stream at a timeout): a client
 * reached directly has read them and stored their cookies. Undefined when none had gone out, or
 * the operation had already ended.
 */
export type AbandonDispatch = () => SentHeaders | undefined;

/**
 * Runs one operation through the app's own HTTP adapter: calls `done` with the app's answer, or
 * `fail` when the request could not even enter the app, once (see `StartWork`); the function
 * returned abandons the operation and tells what it had sent ({@link AbandonDispatch}). A throw
 * from the call is taken as `fail` too (the runner guards it). One implementation per adapter;
 * nothing else in the library knows which adapter runs.
 */
export interface OperationDispatcher {
  dispatch(
    request: DispatchRequest,
    parent: ParentContext,
    done: (response: DispatchResponse) => void,
    fail: (error: unknown) => void,
  ): AbandonDispatch;
}
