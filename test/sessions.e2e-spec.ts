import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import {
  Controller,
  Get,
  HttpCode,
  type INestApplication,
  Module,
  Post,
  Req,
} from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import cookieParser from 'cookie-parser';
import session from 'express-session';
import request from 'supertest';
import { forEachPlatform, type Platform } from './utils/platforms.js';
import { useTestApp } from './utils/test-app.js';

/** express-session's `req.session`, or @fastify/session's `request.session`. */
interface SessionLike {
  count?: number;
  get?(key: string): unknown;
  set?(key: string, value: unknown): void;
}

function countOf(store: SessionLike): number {
  const value = typeof store.get === 'function' ? store.get('count') : store.count;
  return typeof value === 'number' ? value : 0;
}

/** A counter kept in the session, as carts, wizards and flash messages are. */
@Controller('counter')
class CounterController {
  @Post('bump')
  @HttpCode(200)
  bump(@Req() req: { session: SessionLike }): { count: number } {
    const count = countOf(req.session) + 1;
    if (typeof req.session.set === 'function') req.session.set('count', count);
    else req.session.count = count;
    return { count };
  }

  @Get()
  read(@Req() req: { session: SessionLike }): { count: number } {
    return { count: countOf(req.session) };
  }
}

@Module({ controllers: [CounterController] })
class CounterModule {}

/** Session middleware mounted app-wide, as each module's docs show, with its defaults. */
function mountSessions(platform: Platform, expressOptions: session.SessionOptions) {
  return (app: INestApplication): void => {
    if (platform.name === 'express') {
      app.use(cookieParser());
      app.use(session(expressOptions));
      return;
    }
    const fastify = app as NestFastifyApplication;
    void fastify.register(fastifyCookie);
    // Over plain HTTP in the test: its default `secure: true` would never set the cookie.
    void fastify.register(fastifySession, {
      secret: 'a secret with minimum length of 32 characters',
      cookie: { secure: false },
    });
  };
}

forEachPlatform((platform) => {
  describe.each([
    [
      'resave: true, saveUninitialized: true (the defaults)',
      { resave: true, saveUninitialized: true },
    ],
    ['resave: false, saveUninitialized: false', { resave: false, saveUninitialized: false }],
    [
      "rolling: true, unset: 'destroy'",
      { resave: true, saveUninitialized: true, rolling: true, unset: 'destroy' as const },
    ],
  ])(
    'session middleware app-wide (express-session %s; @fastify/session defaults)',
    (_, options) => {
      const t = useTestApp({
        imports: [CounterModule],
        configure: mountSessions(platform, { secret: 'test secret', ...options }),
      });

      it("keeps an operation's session write: the batch request does not save its stale copy over it", async () => {
        const browser = request.agent(t.app.getHttpServer());
        await browser.post('/counter/bump').expect(200, { count: 1 });
        const batch = await browser
          .post('/batch')
          .send({ data: [{ method: 'POST', url: '/counter/bump' }] })
          .expect(200);
        expect((batch.body as { data: { body: unknown }[] }).data[0]?.body).toEqual({ count: 2 });
        await browser.get('/counter').expect(200, { count: 2 });
      });

      it('starts a session for a browser without one: the cookie the operation set is the one it keeps', async () => {
        const browser = request.agent(t.app.getHttpServer());
        const batch = await browser
          .post('/batch')
          .send({
            data: [
              { method: 'POST', url: '/counter/bump', name: 'bump' },
              { method: 'GET', url: '/counter', dependsOn: ['bump'] },
            ],
          })
          .expect(200);
        const { data } = batch.body as { data: { body: unknown }[] };
        expect(data.map((entry) => entry.body)).toEqual([{ count: 1 }, { count: 1 }]);
        await browser.get('/counter').expect(200, { count: 1 });
      });
    },
  );
});
