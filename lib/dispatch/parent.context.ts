import { maxHeaderSize, type IncomingMessage } from 'node:http';
import type { Server } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { isBrowserOriginHeader, isForwardingHeader } from '../validation/header.rules.js';
import type { TraceParent } from './otel.api.js';

/** What every operation of one batch takes from the batch request. Built once per batch. */
export interface ParentContext {
  /**
   * Inherited headers, under the operation's own, and the forwarding headers, which no operation
   * may set.
   */
  readonly headers: Readonly<Record<string, string>>;
  /** The connection every operation of the batch arrives on: the batch request's own. */
  readonly connection: ConnectionInfo;
  /** The span the operations are children of; undefined outside a trace (OperationTracer). */
  readonly trace?: TraceParent;
}

/**
 * What code reads off a request's socket, taken from the batch request's: the caller's address
 * (so `req.ip` and rate limiters see the real client) and the rest a request logger, an audit
 * trail or a metric reads (pino-http logs `remoteAddress` and `remotePort`).
 */
export interface ConnectionInfo {
  readonly remoteAddress: string;
  readonly remoteFamily: string;
  readonly remotePort: number | undefined;
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;
  /** True when the batch request came over TLS. */
  readonly encrypted: boolean | undefined;
  /**
   * The batch request's TLS connection, when it came over one: what code reads of the TLS
   * session (a client certificate, for mutual TLS) is read from it, live.
   */
  readonly tls?: TLSSocket;
  /** The server the batch connection was accepted by (`net.Socket#server`). */
  readonly server?: Server;
  /**
   * The idle timeout the server arms on each connection it accepts (`server.timeout`, which
   * Fastify's `connectionTimeout` sets), in ms; undefined for none. Each operation's connection
   * gets it, as a request sent directly would.
   */
  readonly idleTimeout?: number;
  /**
   * Whether the server is told of a connection's timeout, as Node's HTTP/1 server is (its
   * 'timeout' listeners take a socket); an HTTP/2 server's take a session, and are not.
   */
  readonly serverHearsTimeouts?: boolean;
  /**
   * Properties the app set on the batch connection's socket (`req.socket.ntlm`, as
   * connection-based authentication keeps its user), read and written through, live, by each
   * operation's connection: state kept on a connection serves every request sent on it.
   */
  readonly kept?: { readonly socket: object; readonly names: readonly string[] };
  /**
   * The most bytes a request's head may take on this connection, as the server holds a direct
   * one to it: over HTTP/1 the server's `maxHeaderSize` (else Node's, 16 KiB by default), request
   * line included; over HTTP/2 the session's header list size. Undefined: Node's HTTP/1 limit.
   */
  readonly headerLimit?: number;
}

/** nghttp2's header list size when a session sets none (Node's documented default). */
const HTTP2_HEADER_LIST_SIZE = 65_535;

/** See {@link ConnectionInfo.headerLimit}. */
function headerLimitOf(request: IncomingMessage, server: unknown, http1: boolean): number {
  if (http1) {
    const size = (server as { maxHeaderSize?: unknown } | undefined)?.maxHeaderSize;
    return typeof size === 'number' && size > 0 ? size : maxHeaderSize;
  }
  const { stream } = request as {
    stream?: { session?: { localSettings?: { maxHeaderListSize?: number } } };
  };
  const size = stream?.session?.localSettings?.maxHeaderListSize;
  // 2^32 - 1: the session announced no limit of its own.
  return size !== undefined && size < 0xffff_ffff ? size : HTTP2_HEADER_LIST_SIZE;
}

/**
 * Own properties Node's `net`, `tls` and `http` put on a server's socket (those beginning with
 * `_` aside): whatever else a socket holds, the app put there.
 */
const NODE_SOCKET_PROPERTIES: ReadonlySet<string> = new Set([
  'connecting',
  'allowHalfOpen',
  'server',
  'timeout',
  'parser',
  'on',
  'addListener',
  'prependListener',
  'setEncoding',
  'encrypted',
  'alpnProtocol',
  'authorized',
  'authorizationError',
  'servername',
  'ssl',
  'secureConnecting',
  'domain',
]);

/** The names of what the app kept on a socket; none for most connections. */
function keptNames(socket: object): readonly string[] {
  const names: string[] = [];
  for (const name of Object.keys(socket)) {
    if (name.charCodeAt(0) !== 95 /* _ */ && !NODE_SOCKET_PROPERTIES.has(name)) names.push(name);
  }
  return names;
}

const LOOPBACK = '127.0.0.1';
const NONE: ReadonlySet<string> = new Set();

/** Operations run from code: a request from the process itself, on no port. */
const FROM_THE_PROCESS: ConnectionInfo = Object.freeze({
  remoteAddress: LOOPBACK,
  remoteFamily: 'IPv4',
  remotePort: undefined,
  localAddress: undefined,
  localPort: undefined,
  encrypted: undefined,
});

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
  trace?: TraceParent,
): ParentContext {
  const headers: Record<string, string> = {};
  if (!request) return { headers: { host: 'localhost' }, connection: FROM_THE_PROCESS, trace };
  for (const name of inherit) {
    if (withheld.has(name)) continue;
    const value = request.headers[name];
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  // HTTP/2 carries the host as `:authority` only; an operation is an HTTP/1.1 request, which
  // carries it as Host, as a proxy translating HTTP/2 to HTTP/1.1 must (RFC 9113, 8.3.1). The
  // scheme needs no header: `req.protocol` reads the socket, which presents the batch's.
  // An HTTP/1.0 request may come without a Host: its operations then carry none either, as the
  // app sees that request itself (no `localhost` a host-routed controller would take).
  if (!('host' in headers)) {
    const host = request.headers.host ?? authorityOf(request);
    if (host !== undefined) headers.host = host;
  }
  // Every forwarding header as the parent has it, whatever `inherit` says, over a socket with
  // the parent's address: the operation then sees exactly the parent's client (`req.ip`,
  // `req.protocol`, `req.hostname`) under any trust-proxy setting (appending a hop would break
  // hop-count trust). Operations may not set their own, so these are the only ones they carry.
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined && isForwardingHeader(name) && !withheld.has(name)) {
      headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    // Origin and fetch metadata, likewise: the browser's word on who sent the batch, which an
    // Origin or Sec-Fetch-Site check must read on each operation as on a request sent directly.
    if (value !== undefined && isBrowserOriginHeader(name)) {
      headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
  }
  return { headers, connection: connectionOf(request), trace };
}

/** The `:authority` of an HTTP/2 request (Node keeps pseudo-headers among the headers). */
function authorityOf(request: IncomingMessage): string | undefined {
  const authority = request.headers[':authority'];
  return typeof authority === 'string' && authority !== '' ? authority : undefined;
}

/** Read once per batch: each getter of a real socket asks the kernel. */
function connectionOf(request: IncomingMessage): ConnectionInfo {
  const socket = request.socket as Partial<TLSSocket> | null;
  const remoteAddress = socket?.remoteAddress ?? LOOPBACK;
  const server = (socket as { server?: Server & { timeout?: number } } | null)?.server;
  const http1 = request.httpVersionMajor === 1;
  // HTTP/2 multiplexes requests on a session: its compat socket is a proxy, not a connection's.
  const names = http1 && socket ? keptNames(socket) : [];
  return {
    remoteAddress,
    remoteFamily: socket?.remoteFamily ?? (remoteAddress.includes(':') ? 'IPv6' : 'IPv4'),
    remotePort: socket?.remotePort,
    localAddress: socket?.localAddress,
    localPort: socket?.localPort,
    encrypted: socket?.encrypted,
    tls: socket?.encrypted === true ? (socket as TLSSocket) : undefined,
    server,
    // HTTP/2 times sessions, not a request's silence: a slow request there is not dropped.
    idleTimeout:
      http1 && server?.timeout !== undefined && server.timeout > 0 ? server.timeout : undefined,
    serverHearsTimeouts: http1,
    headerLimit: headerLimitOf(request, server, http1),
    ...(names.length > 0 && socket ? { kept: { socket, names } } : {}),
  };
}
