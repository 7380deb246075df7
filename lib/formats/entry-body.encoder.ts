import type { BatchResult } from '../interfaces/batch-operation.interface.js';

/** The bytes of a response body as the entry carries it (parsed JSON, text or base64). */
export function bodyBytes(result: BatchResult): Buffer {
  const { body } = result;
  if (body === undefined) return Buffer.alloc(0);
  if (typeof body !== 'string') return Buffer.from(JSON.stringify(body));
  return Buffer.from(body, result.bodyEncoding === 'base64' ? 'base64' : 'utf8');
}
