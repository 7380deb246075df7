import { Duplex } from 'node:stream';
import type { ConnectionInfo } from './parent.context.js';

function ignore(): void {
  // See the constructor.
}

/**
 * The connection a sub-request arrives on. It must be a real, readable Duplex: body-parser
 * treats a request on a non-readable socket as finished and never reads its body, and
 * `IncomingMessage` destroys through it. What the app writes back is captured on the response,
 * so writes here are only acknowledged.
 */
export class OperationSocket extends Duplex implements ConnectionInfo {
  /** The batch request's: an operation comes over its connection, as loggers should see. */
  readonly remoteAddress: string;
  readonly remoteFamily: string;
  readonly remotePort: number | undefined;
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;
  readonly encrypted: boolean | undefined;

  constructor(connection: ConnectionInfo) {
    super();
    this.remoteAddress = connection.remoteAddress;
    this.remoteFamily = connection.remoteFamily;
    this.remotePort = connection.remotePort;
    this.localAddress = connection.localAddress;
    this.localPort = connection.localPort;
    this.encrypted = connection.encrypted;
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

  /**
   * What the response writes is captured before it gets here, so a write is only acknowledged,
   * on the next tick as a real socket would: without the Writable state machine (buffering,
   * corking, per-write bookkeeping), which cost as much as the rest of the dispatch.
   */
  override write(...args: unknown[]): boolean {
    const done = args[args.length - 1];
    if (typeof done === 'function') process.nextTick(done);
    return true;
  }

  // Servers and middleware tune real sockets; on this one there is nothing to tune.
  setTimeout(): this {
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
}
