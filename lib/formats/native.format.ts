import { InvalidBatchException } from '../batch.exceptions.js';
import type { BatchEntry, BatchOperation } from '../interfaces/batch-operation.interface.js';
import { isRecord } from '../validation/json.value.js';
import { decodeOperations } from '../validation/operation.rules.js';
import { NDJSON_MEDIA_TYPE } from '../batch.constants.js';
import { encodeJson, type DecodedBatch, type JsonReply } from './batch-format.interface.js';
import { entryJsonSpliced } from './entry-body.encoder.js';
import { acceptsNdjson, streamNdjson } from './ndjson.encoder.js';

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

/**
 * The native format: `{ "data": [operations] }` in, `{ "data": [entries] }` out, or with
 * `Accept: application/x-ndjson` a line per operation as it finishes.
 */
export function decodeNative(json: unknown, limit: number): DecodedBatch {
  const operations = decodeNativeBatch(json, limit);
  const reply: JsonReply = {
    open: '{"data":[',
    close: ']}',
    entry: (_, entry) => entryJsonSpliced(entry),
  };
  return {
    format: 'native',
    operations,
    stream: (accept, run) =>
      acceptsNdjson(accept)
        ? { stream: streamNdjson(operations, run), contentType: NDJSON_MEDIA_TYPE }
        : undefined,
    json: reply,
    encode: (entries) => encodeJson(reply, entries),
  };
}
