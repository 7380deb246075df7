import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { isForwardingHeader } from '../operation/header.rules.js';

/** What every operation of one batch takes from the batch request. Built once per batch. */
export interface ParentContext {
  /**
   * Inherited headers, under the operation's own, and the forwarding headers, which no operation
   * may set.
   */
  readonly headers: Readonly<Record<string, string>>;
  /** The caller's address, so `req.ip` and rate limiters see the real client. */
  readonly remoteAddress: string;
  /** True when the batch request came over TLS. */
  readonly encrypted: boolean | undefined;
}

const LOOPBACK = '127.0.0.1';
const NONE: ReadonlySet<string> = new Set();

/**
 * Builds the context for the operations of a batch request. Without a request (the executor
 * called from code), operations come from the process itself. `withheld`: inherited headers
 * these operations must not get (the ambient credentials of a request a browser could have
 * sent cross-site: see policy/cross-site.rules.ts).
 */
export function createParentContext(
  request: IncomingMessage | undefined,
  inherit: readonly string[],
  withheld: ReadonlySet<string> = NONE,
): ParentContext {
  const headers: Record<string, string> = {};
  if (!request)
    return { headers: { host: 'localhost' }, remoteAddress: LOOPBACK, encrypted: undefined };
  for (const name of inherit) {
    if (withheld.has(name)) continue;
    const value = request.headers[name];
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  if (!('host' in headers)) headers.host = request.headers.host ?? 'localhost';
  // Every forwarding header as the parent has it, whatever `inherit` says, over a socket with
  // the parent's address: the operation then sees exactly the parent's client (`req.ip`,
  // `req.protocol`, `req.hostname`) under any trust-proxy setting (appending a hop would break
  // hop-count trust). Operations may not set their own, so these are the only ones they carry.
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined && isForwardingHeader(name) && !withheld.has(name)) {
      headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
  }
  const remoteAddress = request.socket.remoteAddress ?? LOOPBACK;
  const encrypted = (request.socket as Partial<TLSSocket>).encrypted;
  return { headers, remoteAddress, encrypted };
}
