import type { DispatchResponse } from '../dispatch/operation.dispatcher.js';
import type { DecodedBody } from './response-body.decoder.js';
import { jsonStringBytes } from '../validation/json-string.size.js';
import { JsonSizer } from './json.size.js';
import { RenderLimitError } from '../plan/render.limits.js';

/**
 * The bytes one batch's responses may still take (`maxReplyBytes`). Charged as each response
 * arrives, before any entry is encoded: what the reply will hold is then known while it is still
 * small, and a response that does not fit is dropped at once instead of being kept until the
 * reply is built.
 */
export class ReplyBudget {
  private remaining: number;

  constructor(readonly limit: number) {
    this.remaining = limit;
  }

  /** What is left to take. */
  get left(): number {
    return this.remaining;
  }

  /** Takes `bytes` if they fit in what is left; takes nothing if they do not. */
  charge(bytes: number): boolean {
    if (bytes > this.remaining) return false;
    this.remaining -= bytes;
    return true;
  }
}

/**
 * What a response takes as the app sent it (decoded): its body, and its headers as they would go
 * over the wire (`name: value\r\n`).
 */
export function sentBytesOf(
  response: Pick<DispatchResponse, 'headers' | 'headerBytes'> & {
    readonly body: { length: number };
  },
): number {
  return response.body.length + (response.headerBytes ?? headerBytesOf(response.headers));
}

function headerBytesOf(headers: DispatchResponse['headers']): number {
  let bytes = 0;
  for (const name in headers) {
    const value = headers[name] as string | string[];
    if (typeof value === 'string') bytes += name.length + value.length + 4;
    else for (const one of value) bytes += name.length + one.length + 4;
  }
  return bytes;
}

/**
 * What an entry's body takes written as JSON (escapes, base64, a parsed body written back), or
 * some number above `limit` once the count passes it: the walk stops there. What a reply writes
 * can then be held to the cap, not only what the app sent (a body of NUL bytes typed as text
 * takes 6 bytes a byte escaped; `1e20` in a JSON body is written back as 21 digits). `sent`:
 * the body's bytes as the app sent them.
 */
export function writtenBytesOf(entry: DecodedBody, limit: number, sent: number): number {
  // A string body (or a decoded one's base64, not made yet) was measured as it was decided.
  if (entry.written !== undefined) return entry.written;
  const { body } = entry;
  if (body === undefined) return 0;
  if (typeof body === 'string') return jsonStringBytes(body, limit);
  try {
    return new JsonSizer().json(body, limit);
  } catch (error) {
    // Nested deeper than the walk goes: counted as the JSON the app sent, its nearest measure.
    if (error instanceof RenderLimitError) return sent;
    throw error;
  }
}
