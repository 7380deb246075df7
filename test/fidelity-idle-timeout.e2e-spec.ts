/**
 * A server that drops idle connections (`server.timeout`; Fastify's `connectionTimeout`), as
 * production apps set to shed stuck clients. Directly, each request's connection has the timer,
 * and only a request slower than the limit is dropped. A batch's connection is silent while its
 * operations run: each operation must carry the timer of a connection of its own, and the batch
 * must lose none of the answers that came in time.
 */
import { Controller, Get, type INestApplication, Module, Query, Res } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { BatchModule } from 'nestjs-batch';
import { request as httpRequest, type Server } from 'node:http';
import { connect as http2Connect } from 'node:http2';
import { connect, type Socket } from 'node:net';
import { direct, directWithHeaders } from './utils/direct-view.js';
import { forEachPlatform, type FastifyHooks } from './utils/platforms.js';
import { baseOf } from './utils/raw-http.js';
import type { Entry, TestApp } from './utils/test-app.js';
import { takeOverResponse } from './utils/node-response.js';

/** The connections' idle limit, and the operations' durations on either side of it. */
const IDLE = 500;
const UNDER = 300;
const OVER = 1500;

const events: string[] = [];

@Controller('idle')
class IdleController {
  /** Answers after `ms`, as a slow query does; it does not stop when its client leaves. */
  @Get('sleep')
  async sleep(@Query('ms') ms: string): Promise<{ slept: number }> {
    await new Promise((resolve) => setTimeout(resolve, Number(ms)));
    return { slept: Number(ms) };
  }

  @Get('ok')
  ok(): { ok: true } {
    return { ok: true };
  }

  /** `kb` KiB of text at once: more than a client that stops reading takes in. */
  @Get('big')
  big(@Query('kb') kb: string, @Res() reply: object): void {
    const res = takeOverResponse(reply);
    res.setHeader('content-type', 'text/plain');
    res.end('x'.repeat(Number(kb) * 1024));
  }

  /**
   * A login that streams its page: sets a cookie, sends its headers and a first part, then goes
   * silent past the limit, as a handler stuck on a slow query does.
   */
  @Get('cookie-then-silent')
  cookieThenSilent(@Res() reply: object): void {
    const res = takeOverResponse(reply);
    res.setHeader('set-cookie', 'sid=idle-login; Path=/; HttpOnly');
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('partial');
    setTimeout(() => res.end('rest'), OVER).unref();
  }

  /** Sets a cookie, then goes silent past the limit before its headers leave. */
  @Get('cookie-unsent')
  cookieUnsent(@Res() reply: object): void {
    const res = takeOverResponse(reply);
    res.setHeader('set-cookie', 'sid=never-sent; Path=/');
    setTimeout(() => res.end('late'), OVER).unref();
  }

  /**
   * Writes a dot every 700 ms (past the idle limit), three times, listening for the
   * connection's 'timeout' (so it is not dropped), then ends with how many times it was told:
   * once per idle spell.
   */
  @Get('told')
  told(@Res() reply: object): void {
    const res = takeOverResponse(reply);
    let told = 0;
    res.on('timeout', () => told++);
    res.setHeader('content-type', 'text/plain');
    let dots = 0;
    const timer = setInterval(() => {
      res.write('.');
      if (++dots < 3) return;
      clearInterval(timer);
      res.end(String(told));
    }, 700);
  }
}

@Module({ controllers: [IdleController] })
class IdleModule {}

interface Reply {
  status: number;
  text: string;
  setCookie: string[];
  ended: 'complete' | 'dropped-after-headers' | 'dropped-before-headers';
}

function postBatch(base: string, data: unknown[], accept = 'application/json'): Promise<Reply> {
  return new Promise((resolve) => {
    const body = JSON.stringify({ data });
    let text = '';
    const req = httpRequest(
      new URL('/batch', base),
      { method: 'POST', agent: false, headers: { 'content-type': 'application/json', accept } },
      (res) => {
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        const setCookie = res.headers['set-cookie'] ?? [];
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text, setCookie, ended: 'complete' }),
        );
        res.on('error', () => undefined);
        res.on('close', () => {
          if (!res.complete) {
            resolve({
              status: res.statusCode ?? 0,
              text,
              setCookie,
              ended: 'dropped-after-headers',
            });
          }
        });
      },
    );
    req.on('error', () =>
      resolve({ status: 0, text, setCookie: [], ended: 'dropped-before-headers' }),
    );
    req.end(body);
  });
}

function entriesOf(reply: Reply): (Entry | null)[] {
  return (JSON.parse(reply.text) as { data: (Entry | null)[] }).data;
}

forEachPlatform((platform) => {
  let app: INestApplication;
  const t = {} as TestApp;
  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      // No batch timeout nor reply watchdog: the idle timeout is the only one that drops.
      imports: [BatchModule.forRoot({ timeout: 0, replyWriteTimeout: 0 }), IdleModule],
    }).compile();
    app =
      platform.name === 'express'
        ? moduleRef.createNestApplication(new ExpressAdapter())
        : moduleRef.createNestApplication(new FastifyAdapter({ connectionTimeout: IDLE }));
    app.useLogger(false);
    if (platform.name === 'express') (app.getHttpServer() as Server).timeout = IDLE;
    else {
      const fastify = app.getHttpAdapter().getInstance() as FastifyHooks;
      fastify.addHook(
        'onTimeout',
        (request: { url: string }, _reply: unknown, done: () => void) => {
          events.push(`onTimeout ${request.url}`);
          done();
        },
      );
    }
    await app.listen(0, '127.0.0.1');
    Object.assign(t, { app });
  });
  afterAll(() => app.close());
  beforeEach(() => (events.length = 0));

  it('answers operations that each took less than the limit, however long the batch took', async () => {
    expect(await direct(baseOf(t), `/idle/sleep?ms=${UNDER}`)).toMatchObject({
      kind: 'complete',
      status: 200,
    });
    const reply = await postBatch(baseOf(t), [
      { name: 'a', method: 'GET', url: `/idle/sleep?ms=${UNDER}` },
      { name: 'b', method: 'GET', url: `/idle/sleep?ms=${UNDER}`, dependsOn: ['a'] },
    ]);
    // Before the fix, the batch's connection was dropped at the limit: "socket hang up".
    expect(reply).toMatchObject({ status: 200, ended: 'complete' });
    expect(entriesOf(reply).map((entry) => entry?.code)).toEqual([200, 200]);
  });

  it('drops only the operation slower than the limit, as directly, and keeps the others', async () => {
    expect(await direct(baseOf(t), `/idle/sleep?ms=${OVER}`)).toEqual({
      kind: 'dropped-before-headers',
    });
    const directEvents = events.slice();
    if (platform.name === 'fastify')
      expect(directEvents).toEqual([`onTimeout /idle/sleep?ms=${OVER}`]);
    events.length = 0;
    const reply = await postBatch(baseOf(t), [
      { method: 'GET', url: '/idle/ok' },
      { method: 'GET', url: `/idle/sleep?ms=${OVER}` },
    ]);
    // Before the fix, the whole batch was dropped, the fast operation's answer with it.
    expect(reply).toMatchObject({ status: 200, ended: 'complete' });
    const [ok, slow] = entriesOf(reply);
    expect(ok).toMatchObject({ code: 200, body: { ok: true } });
    expect(slow).toMatchObject({ code: 502, body: { reason: 'response-aborted' } });
    expect(slow?.body).not.toHaveProperty('sent');
    // Fastify's onTimeout hook ran for the slow request, directly and batched.
    expect(events).toEqual(directEvents);
  });

  it('keeps the cookie of an operation dropped after its headers, as a browser keeps it directly', async () => {
    // Directly, the headers left before the silence: the client has the cookie, and the rest of
    // the body never comes.
    const seen = await directWithHeaders(baseOf(t), '/idle/cookie-then-silent');
    expect(seen).toMatchObject({ kind: 'dropped-after-headers', status: 200 });
    expect(seen.headers['set-cookie']).toEqual(['sid=idle-login; Path=/; HttpOnly']);
    const reply = await postBatch(baseOf(t), [
      { method: 'GET', url: '/idle/ok' },
      { method: 'GET', url: '/idle/cookie-then-silent' },
    ]);
    expect(reply).toMatchObject({ status: 200, ended: 'complete' });
    const [ok, dropped] = entriesOf(reply);
    expect(ok).toMatchObject({ code: 200 });
    expect(dropped).toMatchObject({
      code: 502,
      body: { reason: 'response-aborted', sent: { code: 200 } },
    });
    // The reply relays the cookie whose headers left, and the entry does not hand it to script.
    expect(reply.setCookie).toEqual(['sid=idle-login; Path=/; HttpOnly']);
    expect(JSON.stringify(dropped)).not.toContain('idle-login');
  });

  it('sets no cookie of an operation dropped before its headers, as directly', async () => {
    const seen = await directWithHeaders(baseOf(t), '/idle/cookie-unsent');
    expect(seen).toMatchObject({ kind: 'dropped-before-headers', headers: {} });
    const reply = await postBatch(baseOf(t), [{ method: 'GET', url: '/idle/cookie-unsent' }]);
    expect(entriesOf(reply)[0]).toMatchObject({ code: 502, body: { reason: 'response-aborted' } });
    expect(entriesOf(reply)[0]?.body).not.toHaveProperty('sent');
    expect(reply.setCookie).toEqual([]);
  });

  it('streamed (NDJSON): drops only the operation slower than the limit, and keeps streaming', async () => {
    const reply = await postBatch(
      baseOf(t),
      [
        { method: 'GET', url: `/idle/sleep?ms=${OVER}` },
        { method: 'GET', url: `/idle/sleep?ms=${UNDER}` },
      ],
      'application/x-ndjson',
    );
    // Before the fix, the connection was dropped at the limit after the second line, before the first.
    expect(reply).toMatchObject({ status: 200, ended: 'complete' });
    const lines = reply.text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { index: number; code: number });
    expect(lines.map(({ index, code }) => [index, code])).toEqual([
      [1, 200],
      [0, 502],
    ]);
  });

  it("tells an operation of each idle spell, as a real connection's timer does", async () => {
    const seen = await direct(baseOf(t), '/idle/told');
    expect(seen).toMatchObject({ kind: 'complete', status: 200 });
    const reply = await postBatch(baseOf(t), [{ method: 'GET', url: '/idle/told' }]);
    // Before the fix, the timer fired once and was never armed again: '...1' against '...3'.
    expect(entriesOf(reply)[0]).toMatchObject({
      code: 200,
      body: seen.kind === 'complete' ? seen.body : '',
    });
  });

  it('answers two batches pipelined on one connection whose operations each took less than the limit', async () => {
    const first = JSON.stringify({ data: [{ method: 'GET', url: `/idle/sleep?ms=${UNDER}` }] });
    const chain = JSON.stringify({
      data: [0, 1, 2, 3].map((i) => ({
        name: `s${i}`,
        method: 'GET',
        url: `/idle/sleep?ms=${UNDER}`,
        ...(i > 0 ? { dependsOn: [`s${i - 1}`] } : {}),
      })),
    });
    const head = (body: string): string =>
      `POST /batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    const received = await new Promise<string>((resolve) => {
      const socket = connect(Number(new URL(baseOf(t)).port), '127.0.0.1');
      let text = '';
      socket.on('connect', () => socket.write(head(first) + head(chain)));
      socket.on('data', (chunk) => {
        text += chunk.toString('latin1');
        if ((text.match(/"slept":/g) ?? []).length === 5) socket.end();
      });
      socket.on('error', () => undefined);
      socket.on('close', () => resolve(text));
    });
    // Before the fix, the first batch's reply armed the timer again while the second ran: the
    // connection was dropped before its reply.
    expect(received.match(/HTTP\/1\.1 200/g)).toHaveLength(2);
    expect(received.match(/"slept":/g)).toHaveLength(5);
  });

  it('streamed (NDJSON): drops a client that stops reading, as directly', async () => {
    const clients: Socket[] = [];
    /**
     * Sends `head` and never reads; resolves once the server closed the connection (the paused
     * client may never see it close).
     */
    const closedWhenUnread = (head: string): Promise<true> =>
      new Promise((resolve) => {
        const server = t.app.getHttpServer() as Server;
        server.once('connection', (accepted: Socket) =>
          accepted.once('close', () => resolve(true)),
        );
        const socket = connect(Number(new URL(baseOf(t)).port), '127.0.0.1');
        clients.push(socket);
        socket.on('connect', () => {
          socket.write(head);
          socket.pause();
        });
        socket.on('error', () => undefined);
      });
    try {
      expect(await closedWhenUnread('GET /idle/big?kb=16384 HTTP/1.1\r\nHost: x\r\n\r\n')).toBe(
        true,
      );
      // A chain: each operation starts once the one before answered, so the later ones wait
      // for the reader to take the lines before them.
      const body = JSON.stringify({
        data: [0, 1, 2, 3].map((i) => ({
          name: `b${i}`,
          method: 'GET',
          url: '/idle/big?kb=4000',
          ...(i > 0 ? { dependsOn: [`b${i - 1}`] } : {}),
        })),
      });
      // Before the fix, the connection stayed open (with no batch timeout, for ever): the run
      // waited for the reader, and the connection's timer for the run.
      expect(
        await closedWhenUnread(
          `POST /batch HTTP/1.1\r\nHost: x\r\nAccept: application/x-ndjson\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        ),
      ).toBe(true);
    } finally {
      for (const socket of clients) socket.destroy();
    }
  });
});

describe('fastify over HTTP/2 (h2c)', () => {
  let app: INestApplication;
  let base: string;
  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [BatchModule.forRoot({ timeout: 0, replyWriteTimeout: 0 }), IdleModule],
    }).compile();
    app = moduleRef.createNestApplication(
      new FastifyAdapter({ http2: true, connectionTimeout: IDLE } as ConstructorParameters<
        typeof FastifyAdapter
      >[0]),
    );
    app.useLogger(false);
    await app.listen(0, '127.0.0.1');
    base = baseOf({ app } as TestApp);
  });
  afterAll(() => app.close());

  it('keeps an operation slower than the limit, as HTTP/2 keeps such a request', async () => {
    // HTTP/2 times sessions, not a request's silence.
    expect(await direct(base, `/idle/sleep?ms=${OVER}`, true)).toMatchObject({
      kind: 'complete',
      status: 200,
    });
    const text = await new Promise<string>((resolve, reject) => {
      const session = http2Connect(base);
      session.on('error', reject);
      const stream = session.request({
        ':method': 'POST',
        ':path': '/batch',
        'content-type': 'application/json',
      });
      let body = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => (body += chunk));
      stream.on('end', () => {
        session.close();
        resolve(body);
      });
      stream.end(
        JSON.stringify({
          data: [
            { method: 'GET', url: '/idle/ok' },
            { method: 'GET', url: `/idle/sleep?ms=${OVER}` },
          ],
        }),
      );
    });
    // Before the fix, the slow operation was dropped at the limit (502 response-aborted).
    expect((JSON.parse(text) as { data: Entry[] }).data.map((entry) => entry.code)).toEqual([
      200, 200,
    ]);
  });
});
