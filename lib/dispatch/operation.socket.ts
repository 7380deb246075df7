import type { ServerResponse } from 'node:http';
import type { AddressInfo, Server } from 'node:net';
import { Duplex, getDefaultHighWaterMark } from 'node:stream';
import type { ConnectionInfo } from './parent.context.js';
import { outgoingMessageSymbol } from '../platform/framework.internals.js';

/**
 * Node's own flag on a response whose write returned false (`writableNeedDrain` reads it): its
 * HTTP server clears it before emitting 'drain', as the connection here must, or the next pipe
 * to the response would wait for a drain already past.
 */
const NEED_DRAIN: symbol = outgoingMessageSymbol('kNeedDrain') ?? Symbol('kNeedDrain');

/** A server connection's: `net.Socket` takes the default (16 KiB on Node 20, 64 KiB on 22). */
const HIGH_WATER_MARK = getDefaultHighWaterMark(false);

function destroyedError(): Error {
  return Object.assign(new Error('Cannot call write after a stream was destroyed'), {
    code: 'ERR_STREAM_DESTROYED',
  });
}

function ignore(): void {
  // See the constructor.
}

/**
 * Reads and writes each property the app kept on the batch's connection through to it: an
 * operation sees that state live, and what it changes there stays for the requests after it,
 * as on a connection of its own. A name this socket has itself is left alone: called once the
 * socket is made, its subclass's fields included.
 */
export function keepThrough(socket: OperationSocket, kept: object, names: readonly string[]): void {
  const source = kept as Record<string, unknown>;
  for (const name of names) {
    if (name in socket) continue;
    Object.defineProperty(socket, name, {
      get: () => source[name],
      set: (value: unknown) => {
        source[name] = value;
      },
      enumerable: true,
      configurable: true,
    });
  }
}

/**
 * The connection a sub-request arrives on. It must be a real, readable Duplex: body-parser
 * treats a request on a non-readable socket as finished and never reads its body, and
 * `IncomingMessage` destroys through it. What the app writes back is captured on the response,
 * so writes here are only acknowledged.
 *
 * It ends as a server connection with `allowHalfOpen: false` does: `end()` (or `destroySoon()`)
 * closes it once what was written is flushed, and closing it closes the response on it.
 */
export class OperationSocket extends Duplex implements ConnectionInfo {
  /** The batch request's: an operation comes over its connection, as loggers should see. */
  readonly remoteAddress: string;
  readonly remoteFamily: string;
  readonly remotePort: number | undefined;
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;
  readonly encrypted: boolean | undefined;
  readonly server: Server | undefined;
  /** Writes taken: the response's capture tells by it whether a call Node refused sent anything. */
  writeCalls = 0;
  /**
   * Writes that reached the client. A write while the connection is corked (Node corks it for a
   * response's first write until the next tick) waits for the uncork, and a real connection
   * destroyed before then never sends it: a response destroyed in the tick of its first write
   * sent no headers.
   */
  flushedWrites = 0;
  /** Writes held by a cork, sent at the last uncork unless destroyed first. */
  #corkedWrites = 0;
  // Its own bookkeeping is in #private fields: an app's property of the same name on the
  // connection (`idle`, say) is passed through (`keepThrough`), not shadowed nor overwritten.
  /** Called once when writes held by a cork go out (the response's capture waits for it). */
  #flushed: (() => void) | undefined;
  /** The idle timeout in ms, as `net.Socket#timeout`: undefined until `setTimeout` is called. */
  timeout: number | undefined = undefined;
  /** Whether the server is told of this connection's timeout (HTTP/1, as Node's server is). */
  readonly serverHearsTimeouts: boolean;
  /** The idle timer, only once one was asked for (`setTimeout`, or the server's timeout). */
  #idle: NodeJS.Timeout | undefined;
  /** Bytes (string chunks: characters) written since the connection last drained. */
  #unsent = 0;
  /** Whether a drain is due on the next turn of the event loop. */
  #drainDue = false;
  /** The callbacks of writes past the high-water mark: called at the drain, as the client read. */
  #waiting: ((error?: Error) => void)[] | undefined;

  constructor(connection: ConnectionInfo) {
    super();
    this.remoteAddress = connection.remoteAddress;
    this.remoteFamily = connection.remoteFamily;
    this.remotePort = connection.remotePort;
    this.localAddress = connection.localAddress;
    this.localPort = connection.localPort;
    this.encrypted = connection.encrypted;
    this.server = connection.server;
    this.serverHearsTimeouts = connection.serverHearsTimeouts === true;
    if (connection.idleTimeout !== undefined) this.setTimeout(connection.idleTimeout);
    // Node's server listens for errors on every connection; an app that destroys this one with
    // an error must not crash the process. The response's 'close' ends the operation.
    this.on('error', ignore);
  }

  override _read(): void {
    // The request body is pushed into the IncomingMessage itself.
  }

  override _write(_chunk: unknown, _encoding: BufferEncoding, callback: () => void): void {
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.#idle) clearTimeout(this.#idle);
    this.#idle = undefined;
    callback(error);
  }

  /**
   * What the response writes is captured before it gets here, so a write is only acknowledged:
   * on the next tick as a real socket would, or past the high-water mark at the drain (see
   * `#backPressure`). Without the Writable state machine (buffering, corking, per-write
   * bookkeeping), which cost as much as the rest of the dispatch.
   */
  override write(...args: unknown[]): boolean {
    this.writeCalls++;
    // A write held by a cork has not reached the connection: it is no activity yet.
    if (this.writableCorked > 0) this.#corkedWrites++;
    else {
      this.flushedWrites++;
      this.#idle?.refresh();
    }
    const done = args[args.length - 1];
    const chunk = args[0] as { length?: unknown } | null | undefined;
    if (typeof chunk?.length === 'number') this.#unsent += chunk.length;
    if (this.#unsent < HIGH_WATER_MARK) {
      if (typeof done === 'function') process.nextTick(done);
      return true;
    }
    // Its callback comes once the client read it, as a real connection's: a writer that waits
    // for each callback (an awaited write, a Writable over the response) pauses here too.
    if (typeof done === 'function') (this.#waiting ??= []).push(done as () => void);
    return this.#backPressure();
  }

  /**
   * Back-pressure, as a real connection gives it: past its high-water mark a write returns
   * false, and 'drain' comes once the client has read. The client here reads at once, but only
   * on the next turn of the event loop (`setImmediate`): a source that produces synchronously
   * (`Readable.from` over rows, a generated download) pauses there, and other requests, timers
   * and the operation's timeout run meanwhile. Without it such a source ran to its end in one
   * turn, and an endless one held the process for ever. Always false.
   */
  #backPressure(): boolean {
    if (!this.#drainDue) {
      this.#drainDue = true;
      setImmediate(() => this.#drain());
    }
    return false;
  }

  #drain(): void {
    this.#drainDue = false;
    this.#unsent = 0;
    const waiting = this.#waiting;
    this.#waiting = undefined;
    if (this.destroyed) {
      // As a destroyed stream fails the writes it still held.
      if (waiting) for (const done of waiting) done(destroyedError());
      return;
    }
    if (waiting) for (const done of waiting) done();
    this.emit('drain');
    // What Node's HTTP server does on its connection's 'drain' (`socketOnDrain`): the response
    // whose write returned false is told, and its pipe resumes.
    const response = (this as { _httpMessage?: ServerResponse | null })._httpMessage;
    if (response && !response.writableFinished && response.writableNeedDrain) {
      (response as unknown as Record<symbol, boolean>)[NEED_DRAIN] = false;
      response.emit('drain');
    }
  }

  /**
   * The response's final header block is rendered now: the writes that reached the connection
   * before it were informational answers (103 Early Hints, 100 Continue, which Node writes at
   * once), not it. Counted from here, a final head still held by the cork has not gone out.
   */
  finalHeadFollows(): void {
    this.flushedWrites = 0;
    this.#corkedWrites = 0;
  }

  override uncork(): void {
    super.uncork();
    if (this.writableCorked > 0 || this.#corkedWrites === 0 || this.destroyed) return;
    this.flushedWrites += this.#corkedWrites;
    this.#corkedWrites = 0;
    this.#idle?.refresh();
    const flushed = this.#flushed;
    this.#flushed = undefined;
    flushed?.();
  }

  /**
   * Calls `callback` once the writes held by a cork go out (never, if destroyed first). One
   * callback at a time: the response's capture is its only caller.
   */
  afterFlush(callback: () => void): void {
    this.#flushed = callback;
  }

  /**
   * Ends the connection: the client sees it close once what was written is flushed. No peer
   * half-closes it, so it is destroyed then, and the response on it closes (response-aborted,
   * unless it had finished).
   */
  override end(...args: unknown[]): this {
    if (this.writableFinished) this.destroy();
    else if (!this.destroyed) this.once('finish', destroyOnFinish);
    return super.end(...(args as []));
  }

  /** net.Socket's: what a logger or a health check reads of the connection's state. */
  get readyState(): 'open' | 'readOnly' | 'writeOnly' | 'closed' {
    if (this.destroyed) return 'closed';
    if (this.readable && this.writable) return 'open';
    if (this.readable) return 'readOnly';
    return this.writable ? 'writeOnly' : 'closed';
  }

  /** net.Socket's: ends the connection once written. */
  destroySoon(): void {
    if (this.writable) this.end();
    else this.destroy();
  }

  /** The batch connection's local end, as `net.Socket#address()` gives it; `{}` when none. */
  address(): AddressInfo | Record<string, never> {
    if (this.localAddress === undefined || this.localPort === undefined) return {};
    return { address: this.localAddress, family: this.remoteFamily, port: this.localPort };
  }

  /**
   * An idle timeout, as on a real connection: after `ms` without a write, 'timeout' is emitted
   * here, on the response and on the server (as Node's server does), and the connection is
   * destroyed if neither of the latter listened; a later write arms it again. `0` disarms it.
   * Unref'd: it holds no process.
   */
  setTimeout(ms: number, callback?: () => void): this {
    if (this.#idle) clearTimeout(this.#idle);
    this.#idle = undefined;
    this.timeout = ms;
    if (callback) {
      if (ms === 0) this.removeListener('timeout', callback);
      else this.once('timeout', callback);
    }
    if (ms > 0 && Number.isFinite(ms) && !this.destroyed) {
      this.#idle = setTimeout(() => this.onIdle(), ms);
      this.#idle.unref();
    }
    return this;
  }

  // Servers and middleware tune real sockets; on this one there is nothing to tune, and nothing
  // holds the process open to ref or unref (an app calling them must not fail with a 500).
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }

  private onIdle(): void {
    // The timer is kept: as on a real connection, the next write arms it again (`refresh`).
    // First what Node's HTTP/1 server does, its listener being the connection's first (the
    // request is complete by then): the response and the server are told, and the connection
    // is destroyed if neither listens. Then the connection's own listeners (Fastify's onTimeout).
    const response = (this as { _httpMessage?: ServerResponse | null })._httpMessage;
    const heardByResponse = response?.emit('timeout', this) === true;
    const heardByServer = this.serverHearsTimeouts && this.server?.emit('timeout', this) === true;
    if (!heardByResponse && !heardByServer) this.destroy();
    this.emit('timeout');
  }
}

function destroyOnFinish(this: OperationSocket): void {
  this.destroy();
}
