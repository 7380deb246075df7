import { InvalidBatchException } from '../batch.exceptions.js';
import type { BatchEntry, BatchOperation } from '../interfaces/batch-operation.interface.js';
import { isRecord } from '../operation/json.value.js';
import { decodeOperations } from '../operation/operation.rules.js';
import type { DecodedBatch } from './batch-format.interface.js';

/**
 * The native reply: `{ "data": [entries] }`, in request order. Streamed, it is NDJSON instead
 * (ndjson.encoder.ts), one `NdjsonBatchLine` per operation.
 * @publicApi
 */
export interface NativeBatchReply {
  data: BatchEntry[];
}

const NATIVE_ENVELOPE =
  'the batch must be a JSON object {"data": [operations]} sent with Content-Type: application/json';

/**
 * Decodes the native envelope `{ "data": [...] }` into operations.
 * @throws InvalidBatchException, BatchLimitExceededException
 */
export function decodeNativeBatch(body: unknown, limit: number): readonly BatchOperation[] {
  if (!isRecord(body) || !('data' in body)) throw new InvalidBatchException([NATIVE_ENVELOPE]);
  return decodeOperations(body.data, limit, 'data');
}

/** The native format: `{ "data": [operations] }` in, `{ "data": [entries] }` out. */
export function decodeNative(json: unknown, limit: number): DecodedBatch {
  return {
    format: 'native',
    operations: decodeNativeBatch(json, limit),
    encode: (entries): { kind: 'json'; body: NativeBatchReply } => ({
      kind: 'json',
      body: { data: [...entries] },
    }),
  };
}
