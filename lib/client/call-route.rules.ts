import type { BatchOperation } from '../interfaces/batch-operation.interface.js';

/*
 * How a call travels, decided from what it is: in a batch (how many bytes it takes there), or
 * with the underlying fetch, and then with what body.
 */

/** `{"data":[` and `]}`: what a batch request's body holds beside its operations. */
export const BATCH_ENVELOPE_BYTES = 11;

/**
 * The UTF-8 bytes an operation takes in the batch request's body, as `JSON.stringify` writes it
 * (with `name`, the name the batch gives it).
 */
export function operationBytes(operation: BatchOperation, name?: string): number {
  const text = JSON.stringify(name === undefined ? operation : { ...operation, name });
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    // Two bytes from U+0080, three from U+0800; a surrogate pair, four for its two units.
    if (code >= 0x80) bytes += code >= 0x800 && (code < 0xd800 || code > 0xdfff) ? 2 : 1;
  }
  return bytes;
}

/** An operation's body as a fetch sends it: its text, its JSON, or the bytes its base64 holds. */
export function requestBodyOf(operation: BatchOperation): string | Uint8Array | undefined {
  const { body } = operation;
  if (body === undefined) return undefined;
  if ((operation as { bodyEncoding?: string }).bodyEncoding === 'base64') {
    return Uint8Array.from(atob(body as string), (char) => char.charCodeAt(0));
  }
  return typeof body === 'string' ? body : JSON.stringify(body);
}

/** Whether an `Accept` asks for server-sent events, as EventSource and its fetch ports send. */
export function asksForEventStream(accept: string | null): boolean {
  return accept !== null && /(?:^|,)\s*text\/event-stream\s*(?:[;,]|$)/i.test(accept);
}
