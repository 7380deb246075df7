/**
 * A server that drops idle connections (`server.timeout`; Fastify's `connectionTimeout`), as
 * production apps set to shed stuck clients. Directly, each request's connection has the timer,
 * and only a request slower than the limit is dropped. A batch's connection is silent while its
 * operations run: each operation must carry the timer of a connection of its own, and the batch
 * must lose none of the answers that came in time.
 */
import { Controller, Get, type INestApplication, Module, Query } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { BatchModule } from 'nestjs-batch';
import { request as httpRequest, type Server } from 'node:http';
import { direct } from './utils/direct-view.js';
import { forEachPlatform, type FastifyHooks } from './utils/platforms.js';
import { baseOf } from './utils/raw-http.js';
import type { Entry, TestApp } from './utils/test-app.js';

/** The connections' idle limit, and the operations' durations on either side of it. */
const IDLE = 400;
const UNDER = 250;
const OVER = 1000;

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
}

@Module({ controllers: [IdleController] })
class IdleModule {}

interface Reply {
  status: number;
  text: string;
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
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text, ended: 'complete' }));
        res.on('error', () => undefined);
        res.on('close', () => {
          if (!res.complete) {
            resolve({ status: res.statusCode ?? 0, text, ended: 'dropped-after-headers' });
          }
        });
      },
    );
    req.on('error', () => resolve({ status: 0, text, ended: 'dropped-before-headers' }));
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
      imports: [BatchModule.forRoot({ timeout: 5000 }), IdleModule],
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
    // Before the fix, the batch's connection was dropped at 400 ms: "socket hang up".
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

  it('streamed (NDJSON): drops only the operation slower than the limit, and keeps streaming', async () => {
    const reply = await postBatch(
      baseOf(t),
      [
        { method: 'GET', url: `/idle/sleep?ms=${OVER}` },
        { method: 'GET', url: `/idle/sleep?ms=${UNDER}` },
      ],
      'application/x-ndjson',
    );
    // Before the fix, the connection was dropped 400 ms after the second line, before the first.
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
});
