import { HttpException, HttpStatus } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';

/**
 * Why the library refused a whole batch request: the `reason` of its error body.
 * @publicApi
 */
export type BatchRefusalReason =
  | 'invalid-batch'
  | 'too-many-operations'
  | 'body-too-large'
  | 'unsupported-format'
  | 'nested-batch'
  | 'cross-site'
  | 'atomic-groups-unavailable';

/**
 * The error body of every refusal the library answers itself, for a batch request or for one of
 * its operations: Nest's own shape (`statusCode`, `error`, `message`) plus a machine-readable
 * `reason`, by which a client tells the library's 403 from the app's own guard's.
 * @publicApi
 */
export interface BatchErrorBody<Reason extends string = string> {
  statusCode: number;
  error: string;
  message: string | string[];
  reason: Reason;
}

/**
 * Why the library answered for an operation instead of the app: the `reason` in the body of
 * every entry it writes itself, so a client can tell, say, an `exclude` 403 from the app's own
 * guard's 403 (whose body has no `reason`).
 * @publicApi
 */
export type BatchEntryFailureReason =
  /** 424: a dependency answered non-2xx or did not run; this one never ran. */
  | 'dependency-failed'
  /** 400: a reference matched nothing, passed a cap, or made an invalid url or header; or the batch's cookies took the headers past the cap. */
  | 'render-failed'
  /** 403: the `exclude` option names the route. */
  | 'excluded'
  /** 403: the route is marked `@SkipBatch()`. */
  | 'skip-batch'
  /** 403: the operation is itself a batch request: batches do not nest. */
  | 'nested-batch'
  /**
   * 403: the batch came from a page of another origin (`operationCors`), and that page could not
   * have made this operation itself: the browser's preflight of it failed (it never ran), or the
   * app's response does not let the page read it (it ran; its answer is hidden).
   */
  | 'cors'
  /** 500: the app threw before answering, or its answer could not be read. */
  | 'dispatch-failed'
  /** 504: past `operationTimeout`. */
  | 'operation-timeout'
  /** 504: unfinished at the batch `timeout`, in formats that have no empty entry (multipart). */
  | 'batch-timeout'
  /**
   * 502: the app's response closed before it ended (destroyed, its connection torn down, a
   * stream that failed mid-body): a direct client would have seen the connection drop.
   */
  | 'response-aborted'
  /** 502: the response passed `maxResponseBytes`. */
  | 'response-too-large'
  /** 502: the response would take the batch's reply past `maxReplyBytes`. */
  | 'reply-too-large'
  /**
   * 424: the operation is in an atomic group that was rolled back (another of its operations
   * failed, named in the body's `failedOperation`); it took no effect, or never ran.
   */
  | 'rolled-back'
  /** 500: the group's operations succeeded, but its transaction failed to commit (the hook threw). */
  | 'transaction-failed'
  /** 504: the operation was running when its atomic group passed `groupTimeout`; rolled back. */
  | 'group-timeout'
  /**
   * 503: not run: the app began to shut down before the operation, which waits for others,
   * could start.
   */
  | 'shutting-down';

/** The error body of an entry the library writes, as a Nest error response plus its reason. */
export function failureBody(
  code: number,
  reason: BatchEntryFailureReason,
  message: string,
): BatchErrorBody<BatchEntryFailureReason> {
  return { statusCode: code, error: STATUS_CODES[code] ?? 'Error', message, reason };
}

/**
 * The base of the library's exceptions: a batch request refused as a whole, before any of its
 * operations ran. A Nest HttpException, so exception filters handle it like any other.
 * @publicApi
 */
export abstract class BatchException extends HttpException {
  constructor(
    readonly reason: BatchRefusalReason,
    message: string | string[],
    status: HttpStatus,
  ) {
    const body: BatchErrorBody<BatchRefusalReason> = {
      statusCode: status,
      error: STATUS_CODES[status] ?? 'Error',
      message,
      reason,
    };
    super(body, status);
  }
}

/**
 * The batch cannot be run: a bad envelope, an invalid operation, a dependency cycle or an unknown
 * name. Nothing of it has run. Messages name the operation index and the problem.
 * @publicApi
 */
export class InvalidBatchException extends BatchException {
  constructor(readonly problems: readonly string[]) {
    super('invalid-batch', [...problems], HttpStatus.BAD_REQUEST);
  }
}

/**
 * The batch holds more operations than the configured `limit`. Nothing of it has run.
 * @publicApi
 */
export class BatchLimitExceededException extends BatchException {
  constructor(
    readonly count: number,
    readonly limit: number,
  ) {
    super(
      'too-many-operations',
      `A batch may hold at most ${limit} operations; this one has ${count}`,
      HttpStatus.PAYLOAD_TOO_LARGE,
    );
  }
}

/**
 * The batch body is larger than `maxBodyBytes`; the rest of it was never read.
 * @publicApi
 */
export class BatchBodyTooLargeException extends BatchException {
  constructor(readonly limit: number) {
    super(
      'body-too-large',
      `The batch body may be at most ${limit} bytes (maxBodyBytes)`,
      HttpStatus.PAYLOAD_TOO_LARGE,
    );
  }
}

/**
 * The batch request is in no format the endpoint speaks (Content-Type, charset, compression, or
 * a format left out of `formats`).
 * @publicApi
 */
export class UnsupportedBatchFormatException extends BatchException {
  constructor(message: string) {
    super('unsupported-format', message, HttpStatus.UNSUPPORTED_MEDIA_TYPE);
  }
}

/**
 * A batch was sent as an operation of a batch.
 * @publicApi
 */
export class NestedBatchException extends BatchException {
  constructor() {
    super(
      'nested-batch',
      'A batch cannot be sent as an operation of a batch',
      HttpStatus.FORBIDDEN,
    );
  }
}

/**
 * A browser says another site's page sent this batch in a format that needs no CORS preflight.
 * @publicApi
 */
export class CrossSiteBatchException extends BatchException {
  constructor(message: string) {
    super('cross-site', message, HttpStatus.FORBIDDEN);
  }
}

/**
 * The batch holds an atomic group (an OData change set, an `atomicityGroup`), and no
 * `transaction` hook is configured: a group never runs without a transaction. Nothing has run.
 * @publicApi
 */
export class AtomicGroupsUnavailableException extends BatchException {
  constructor(readonly groups: readonly string[]) {
    super(
      'atomic-groups-unavailable',
      [
        `the batch holds atomic groups (${groups.map((name) => `"${name}"`).join(', ')}), which run in a transaction of the app's database: configure BatchModule's \`transaction\` option (a hook such as (work) => txHost.withTransaction(work)), or send the operations outside a group to run them one by one`,
      ],
      HttpStatus.BAD_REQUEST,
    );
  }
}
