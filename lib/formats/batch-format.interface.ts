import type { BatchFormat } from '../batch.constants.js';
import type { BatchEntry, BatchOperation } from '../interfaces/batch-operation.interface.js';

/** The reply of a batch in its format: a JSON value Nest serialises, or bytes of a media type. */
export type EncodedBatch =
  | { readonly kind: 'json'; readonly body: unknown }
  | { readonly kind: 'bytes'; readonly body: Buffer; readonly contentType: string };

/**
 * A batch request decoded by its format's codec: the operations the executor runs, and how to
 * write their entries back in the same format (a codec keeps what it needs for that: ids,
 * Content-IDs, flags of the request).
 */
export interface DecodedBatch {
  readonly format: BatchFormat;
  readonly operations: readonly BatchOperation[];
  encode(entries: readonly BatchEntry[]): EncodedBatch;
}
