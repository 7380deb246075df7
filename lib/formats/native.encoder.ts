import type { BatchEntry } from '../interfaces/batch-operation.interface.js';

/**
 * The native reply: `{ "data": [entries] }`, in request order.
 * @publicApi
 */
export interface NativeBatchReply {
  data: BatchEntry[];
}

/** Wraps the entries in the native envelope. */
export function encodeNativeBatch(entries: BatchEntry[]): NativeBatchReply {
  return { data: entries };
}
