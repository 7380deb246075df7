/**
 * An app served over TLS that asks for client certificates (mutual TLS), as services behind a
 * zero-trust network or a payment partner's API do: a guard reads the peer certificate off the
 * request's socket. An operation arrives over the batch request's TLS connection, with its
 * certificate: each must see what the same request sent directly on that connection sees.
 */
import {
  type CanActivate,
  Controller,
  type ExecutionContext,
  ForbiddenException,
  Get,
  type INestApplication,
  Injectable,
  Module,
  Req,
  UseGuards,
} from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { BatchModule } from 'nestjs-batch';
import { readFileSync } from 'node:fs';
import { connect as http2Connect } from 'node:http2';
import type { IncomingMessage } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { forEachPlatform } from './utils/platforms.js';

const TLS = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'tls');
const read = (name: string): Buffer => readFileSync(join(TLS, name));
/** The server's certificate and the CA it trusts for clients (test/fixtures/tls/README.md). */
const SERVER = {
  key: read('server.key'),
  cert: read('server.pem'),
  ca: read('ca.pem'),
  requestCert: true,
  // The guard decides: a client without a certificate is answered 403, not refused the handshake.
  rejectUnauthorized: false,
};
/** A client presenting the certificate of `CN=alice`, signed by the CA the server trusts. */
const ALICE: RequestOptions = {
  key: read('client.key'),
  cert: read('client.pem'),
  ca: read('ca.pem'),
};
const ANONYMOUS: RequestOptions = { ca: read('ca.pem') };

/** What a handler reads of its request's TLS connection (a plain one has none of it). */
interface TlsView {
  readonly encrypted?: boolean;
  readonly authorized?: boolean;
  readonly authorizationError?: Error | null;
  getPeerCertificate(): { subject?: { CN?: string }; fingerprint256?: string };
  getProtocol(): string | null;
}

function tlsOf(request: object): TlsView {
  const req = ('raw' in request ? request.raw : request) as IncomingMessage;
  return req.socket as unknown as TlsView;
}

/** Admits a request whose connection presented a certificate the server's CA signed. */
@Injectable()
class ClientCertificateGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const socket = tlsOf(context.switchToHttp().getRequest<object>());
    if (!socket.authorized) throw new ForbiddenException('a client certificate is required');
    return true;
  }
}

@Controller('tls')
class TlsController {
  /** What a handler reads off the connection, as an audit trail or a per-client quota does. */
  @Get('whoami')
  @UseGuards(ClientCertificateGuard)
  whoami(@Req() request: object): Record<string, unknown> {
    const socket = tlsOf(request);
    const peer = socket.getPeerCertificate();
    return {
      encrypted: socket.encrypted === true,
      authorized: socket.authorized,
      subject: peer.subject?.CN ?? null,
      fingerprint: peer.fingerprint256 ?? null,
      protocol: socket.getProtocol(),
    };
  }

  /** Unguarded: what a client without a certificate presents. */
  @Get('peer')
  peer(@Req() request: object): Record<string, unknown> {
    const socket = tlsOf(request);
    return {
      authorized: socket.authorized,
      authorizationError: String(socket.authorizationError ?? null),
      subject: socket.getPeerCertificate().subject?.CN ?? null,
    };
  }
}

@Module({ controllers: [TlsController] })
class TlsModule {}

interface Answer {
  status: number;
  body: any;
}

function send(
  port: number,
  client: RequestOptions,
  method: string,
  path: string,
  body?: unknown,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = httpsRequest(
      {
        ...client,
        host: '127.0.0.1',
        servername: 'localhost',
        port,
        method,
        path,
        agent: false,
        headers: payload ? { 'content-type': 'application/json' } : {},
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** The same request, as the one operation of a batch sent on a connection of that client. */
async function batched(port: number, client: RequestOptions, path: string): Promise<Answer> {
  const reply = await send(port, client, 'POST', '/batch', {
    data: [{ method: 'GET', url: path }],
  });
  expect(reply.status).toBe(200);
  const [entry] = reply.body.data as { code: number; body: unknown }[];
  return { status: entry?.code ?? 0, body: entry?.body };
}

forEachPlatform((platform) => {
  let app: INestApplication;
  let port: number;
  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [BatchModule.forRoot({}), TlsModule],
    }).compile();
    app =
      platform.name === 'express'
        ? // Nest's options type is a class; its docs pass a literal, as apps do.
          // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment
          moduleRef.createNestApplication(new ExpressAdapter(), { httpsOptions: SERVER })
        : moduleRef.createNestApplication(new FastifyAdapter({ https: SERVER }));
    app.useLogger(false);
    await app.listen(0, '127.0.0.1');
    port = (app.getHttpServer().address() as AddressInfo).port;
  });
  afterAll(() => app.close());

  it("admits an operation of a client with a certificate, and shows it the client's certificate", async () => {
    const direct = await send(port, ALICE, 'GET', '/tls/whoami');
    expect(direct).toMatchObject({
      status: 200,
      body: { encrypted: true, authorized: true, subject: 'alice' },
    });
    // Before the fix, 403: the operation's socket had no `authorized`, nor `getPeerCertificate`.
    expect(await batched(port, ALICE, '/tls/whoami')).toEqual(direct);
  });

  it('refuses an operation of a client without one, as directly', async () => {
    const direct = await send(port, ANONYMOUS, 'GET', '/tls/whoami');
    expect(direct.status).toBe(403);
    expect(await batched(port, ANONYMOUS, '/tls/whoami')).toEqual(direct);
  });

  it('shows an operation of a client without one what the connection shows', async () => {
    const direct = await send(port, ANONYMOUS, 'GET', '/tls/peer');
    expect(direct).toMatchObject({ status: 200, body: { authorized: false, subject: null } });
    expect(direct.body.authorizationError).not.toBe('null');
    // Before the fix, 500: `getPeerCertificate` is not a function.
    expect(await batched(port, ANONYMOUS, '/tls/peer')).toEqual(direct);
  });
});

describe('fastify over HTTP/2 with TLS', () => {
  let app: INestApplication;
  let origin: string;
  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [BatchModule.forRoot({}), TlsModule],
    }).compile();
    app = moduleRef.createNestApplication(
      new FastifyAdapter({ http2: true, https: SERVER } as ConstructorParameters<
        typeof FastifyAdapter
      >[0]),
    );
    app.useLogger(false);
    await app.listen(0, '127.0.0.1');
    origin = `https://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  });
  afterAll(() => app.close());

  /** One request on a session of its own, with `client`'s certificate (if any). */
  function sendH2(client: RequestOptions, method: string, path: string, body?: unknown) {
    return new Promise<Answer>((resolve, reject) => {
      const session = http2Connect(origin, {
        key: client.key as Buffer | undefined,
        cert: client.cert as Buffer | undefined,
        ca: client.ca as Buffer,
        servername: 'localhost',
      });
      session.on('error', reject);
      const stream = session.request({
        ':method': method,
        ':path': path,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      });
      let status = 0;
      let text = '';
      stream.setEncoding('utf8');
      stream.on('response', (headers) => (status = Number(headers[':status'])));
      stream.on('data', (chunk: string) => (text += chunk));
      stream.on('end', () => {
        session.close();
        resolve({ status, body: JSON.parse(text) });
      });
      stream.end(body === undefined ? undefined : JSON.stringify(body));
    });
  }

  it('shows an operation the certificate of the session it came on, as directly', async () => {
    const direct = await sendH2(ALICE, 'GET', '/tls/whoami');
    expect(direct).toMatchObject({ status: 200, body: { authorized: true, subject: 'alice' } });
    const reply = await sendH2(ALICE, 'POST', '/batch', {
      data: [{ method: 'GET', url: '/tls/whoami' }],
    });
    const [entry] = reply.body.data as { code: number; body: unknown }[];
    expect({ status: entry?.code, body: entry?.body }).toEqual(direct);
  });
});
