import type { DispatchResponse } from '../dispatch/operation.dispatcher.js';

/**
 * The bytes one batch's responses may still take (`maxReplyBytes`). Charged as each response
 * arrives, before any entry is encoded: what the reply will hold is then known while it is still
 * small, and a response that does not fit is dropped at once instead of being kept until the
 * reply is built.
 */
export class ReplyBudget {
  private left: number;

  constructor(readonly limit: number) {
    this.left = limit;
  }

  /** Takes the bytes of `response` if they fit in what is left; takes nothing if they do not. */
  charge(response: DispatchResponse): boolean {
    const bytes = replyBytesOf(response);
    if (bytes > this.left) return false;
    this.left -= bytes;
    return true;
  }
}

/**
 * What a response adds to the reply: its body as the app sent it, and its headers as they would
 * go over the wire (`name: value\r\n`). JSON escaping or base64 can make the encoded entry
 * somewhat larger; the count is meant to bound memory, not to predict the reply to the byte.
 */
function replyBytesOf(response: DispatchResponse): number {
  let bytes = response.body.length;
  const { headers } = response;
  for (const name in headers) {
    const value = headers[name] as string | string[];
    if (typeof value === 'string') bytes += name.length + value.length + 4;
    else for (const one of value) bytes += name.length + one.length + 4;
  }
  return bytes;
}
