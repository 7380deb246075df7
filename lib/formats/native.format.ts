import { decodeNativeBatch } from '../operation/operation.rules.js';
import { encodeNativeBatch } from './native.encoder.js';
import type { DecodedBatch } from './batch-format.interface.js';

/** The native format: `{ "data": [operations] }` in, `{ "data": [entries] }` out. */
export function decodeNative(json: unknown, limit: number): DecodedBatch {
  return {
    format: 'native',
    operations: decodeNativeBatch(json, limit),
    encode: (entries) => ({ kind: 'json', body: encodeNativeBatch([...entries]) }),
  };
}
