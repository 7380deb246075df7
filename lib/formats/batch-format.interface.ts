import type { Readable } from 'node:stream';
import type { Observable } from 'rxjs';
import type { BatchFormat } from '../batch.constants.js';
import type {
  BatchEntry,
  BatchOperation,
  BatchOutcome,
} from '../interfaces/batch-operation.interface.js';
import type { SplicedJson } from './entry-body.encoder.js';

/** Runs the batch for a streamed reply: `readyToStart` holds operations back while it is behind. */
export type StreamedRun = (
  readyToStart: () => PromiseLike<void> | undefined,
) => Observable<BatchOutcome>;

/** A reply written while the batch runs, an entry as each operation finishes. */
export interface StreamedBatch {
  readonly stream: Readable;
  readonly contentType: string;
}

/** The reply of a batch in its format: JSON text, or bytes of a media type. */
export type EncodedBatch =
  | { readonly kind: 'json'; readonly text: string }
  | { readonly kind: 'bytes'; readonly body: Buffer; readonly contentType: string };

/**
 * A JSON reply written an entry at a time: `open`, each entry's JSON in request order separated
 * by commas, `close`. An entry is made into its JSON as soon as its operation finishes, and its
 * result let go, instead of all being held until the reply is built.
 */
export interface JsonReply {
  readonly open: string;
  readonly close: string;
  /** The JSON of entry `index` (`null` for one unfinished at the end). */
  entry(index: number, entry: BatchEntry): string | SplicedJson;
}

/** The whole reply, from all its entries at once. */
export function encodeJson(reply: JsonReply, entries: readonly BatchEntry[]): EncodedBatch {
  return {
    kind: 'json',
    text: `${reply.open}${entries.map((entry, index) => String(reply.entry(index, entry))).join(',')}${reply.close}`,
  };
}

/**
 * A batch request decoded by its format's codec: the operations the executor runs, and how to
 * write their entries back in the same format (a codec keeps what it needs for that: ids,
 * Content-IDs, flags of the request).
 */
export interface DecodedBatch {
  readonly format: BatchFormat;
  readonly operations: readonly BatchOperation[];
  encode(entries: readonly BatchEntry[]): EncodedBatch;
  /** How a JSON format writes its reply an entry at a time; `encode` writes the same at once. */
  readonly json?: JsonReply;
  /**
   * The format runs its requests one at a time in request order (multipart, unless
   * `multipartParallel`): see `BatchRunContext.sequential`.
   */
  readonly sequential?: boolean;
  /**
   * The format has no reference syntax in headers and bodies (multipart): `{result=` there is
   * text, never read as a reference. Its urls hold only the references the codec wrote (OData's
   * `$1`); it percent-encodes any other.
   */
  readonly literalText?: boolean;
  /**
   * A streamed reply, when the format has one and the request's `Accept` asks for it (the
   * native format's NDJSON); otherwise undefined, and the reply is `encode`d once all have
   * finished. Throws, before anything is written, when the batch cannot be planned.
   */
  stream?(accept: string | undefined, run: StreamedRun): StreamedBatch | undefined;
  /**
   * Told, once the executor has planned the batch and before anything runs, which operations
   * wait for each one (from `dependsOn` and every reference, in url, headers or body): for a
   * format whose reply depends on that (Facebook omits a depended-on success).
   */
  planned?(dependents: readonly (readonly number[])[]): void;
}
