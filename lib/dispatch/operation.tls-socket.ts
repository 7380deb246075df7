import type { TLSSocket } from 'node:tls';
import { keepThrough, OperationSocket } from './operation.socket.js';
import type { ConnectionInfo } from './parent.context.js';

/**
 * The connection of an operation of a batch that came over TLS. The operation came over the
 * batch's TLS session, so what code reads of that session is the batch connection's, read live:
 * the client's certificate (a mutual-TLS guard admits the operations of a batch it admitted, and
 * no others), the protocol, the cipher, the channel-binding material. A socket over plain HTTP
 * has none of these methods, as a `net.Socket` has none.
 */
export class TlsOperationSocket extends OperationSocket {
  constructor(
    connection: ConnectionInfo,
    private readonly tls: TLSSocket,
  ) {
    super(connection);
  }

  get authorized(): boolean {
    return this.tls.authorized;
  }
  get authorizationError(): Error {
    return this.tls.authorizationError;
  }
  get alpnProtocol(): string | false | null {
    return this.tls.alpnProtocol;
  }
  get servername(): string | false | null {
    return (this.tls as { servername?: string | false | null }).servername ?? null;
  }
  getPeerCertificate(detailed?: boolean): ReturnType<TLSSocket['getPeerCertificate']> {
    return this.tls.getPeerCertificate(detailed as true);
  }
  getPeerX509Certificate(): ReturnType<TLSSocket['getPeerX509Certificate']> {
    return this.tls.getPeerX509Certificate();
  }
  getCertificate(): ReturnType<TLSSocket['getCertificate']> {
    return this.tls.getCertificate();
  }
  getX509Certificate(): ReturnType<TLSSocket['getX509Certificate']> {
    return this.tls.getX509Certificate();
  }
  getProtocol(): string | null {
    return this.tls.getProtocol();
  }
  getCipher(): ReturnType<TLSSocket['getCipher']> {
    return this.tls.getCipher();
  }
  getEphemeralKeyInfo(): ReturnType<TLSSocket['getEphemeralKeyInfo']> {
    return this.tls.getEphemeralKeyInfo();
  }
  getSession(): Buffer | undefined {
    return this.tls.getSession();
  }
  getTLSTicket(): Buffer | undefined {
    return this.tls.getTLSTicket();
  }
  getSharedSigalgs(): string[] {
    return this.tls.getSharedSigalgs();
  }
  isSessionReused(): boolean {
    return this.tls.isSessionReused();
  }
  getFinished(): Buffer | undefined {
    return this.tls.getFinished();
  }
  getPeerFinished(): Buffer | undefined {
    return this.tls.getPeerFinished();
  }
  exportKeyingMaterial(length: number, label: string, context?: Buffer): Buffer {
    // Node takes the context as optional (its types do not): passed on only when given.
    const args = context === undefined ? [length, label] : [length, label, context];
    // eslint-disable-next-line @typescript-eslint/unbound-method
    return Reflect.apply(this.tls.exportKeyingMaterial, this.tls, args) as Buffer;
  }
}

/** The connection an operation arrives on: a TLS one when the batch came over TLS. */
export function operationSocketFor(connection: ConnectionInfo): OperationSocket {
  const socket = connection.tls
    ? new TlsOperationSocket(connection, connection.tls)
    : new OperationSocket(connection);
  if (connection.kept) keepThrough(socket, connection.kept.socket, connection.kept.names);
  return socket;
}
