import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifySession from '@fastify/session';
import {
  Controller,
  Get,
  HttpCode,
  type INestApplication,
  Module,
  Post,
  Req,
  Res,
} from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import cookieParser from 'cookie-parser';
import { doubleCsrf } from 'csrf-csrf';
import { csrfSync } from 'csrf-sync';
import session from 'express-session';
import { expressPlatform, fastifyPlatform, type Platform } from './utils/platforms.js';
import { withTestApp, type TestApp } from './utils/test-app.js';

/** @fastify/csrf-protection on every unsafe request, in the hook its docs name for the mode. */
function protectWithFastifyCsrf(
  fastify: NestFastifyApplication,
  hook: 'onRequest' | 'preHandler',
): void {
  const instance = fastify.getHttpAdapter().getInstance() as unknown as {
    addHook(
      name: string,
      hook: (req: { method: string }, reply: unknown, done: (err?: Error) => void) => void,
    ): void;
    csrfProtection(req: unknown, reply: unknown, done: (err?: Error) => void): void;
  };
  instance.addHook(hook, (req, reply, done) => {
    if (['GET', 'HEAD', 'OPTIONS'].includes(req.method)) done();
    else instance.csrfProtection(req, reply, done);
  });
}

type TokenMaker = (req: unknown, res: unknown) => string;
let makeToken: TokenMaker = () => '';

@Controller('csrf')
class CsrfController {
  @Get('token')
  token(@Req() req: unknown, @Res({ passthrough: true }) res: unknown): { token: string } {
    return { token: makeToken(req, res) };
  }

  @Post('transfer')
  @HttpCode(200)
  transfer(): { ok: true } {
    return { ok: true };
  }

  @Post('rotate')
  @HttpCode(200)
  rotate(
    @Req() req: { session: { regenerate(cb: (err?: unknown) => void): void } },
  ): Promise<{ ok: true }> {
    return new Promise((resolve, reject) =>
      req.session.regenerate((err) =>
        err
          ? reject(err instanceof Error ? err : new Error('regenerate failed'))
          : resolve({ ok: true }),
      ),
    );
  }
}
@Module({ controllers: [CsrfController] })
class CsrfModule {}

interface Case {
  name: string;
  platform: Platform;
  configure(app: INestApplication): void;
  rotates: boolean;
}

const expressSession = () =>
  session({ secret: 'test secret', resave: false, saveUninitialized: true });

const cases: Case[] = [
  {
    name: 'express: csrf-csrf (double submit, bound to the session id) app-wide',
    platform: expressPlatform,
    rotates: true,
    configure: (app) => {
      const { generateCsrfToken, doubleCsrfProtection } = doubleCsrf({
        getSecret: () => 'a csrf secret',
        getSessionIdentifier: (req) => (req as unknown as { session: { id: string } }).session.id,
        // Served over plain HTTP in the test: no __Host- prefix nor Secure.
        cookieName: 'x-csrf-token',
        cookieOptions: { secure: false, sameSite: 'strict', path: '/' },
      });
      makeToken = (req, res) => generateCsrfToken(req as never, res as never);
      app.use(cookieParser());
      app.use(expressSession());
      app.use(doubleCsrfProtection);
    },
  },
  {
    name: 'express: csrf-sync (synchronizer token in the session) app-wide',
    platform: expressPlatform,
    rotates: true,
    configure: (app) => {
      const { generateToken, csrfSynchronisedProtection } = csrfSync();
      makeToken = (req) => generateToken(req as never);
      app.use(expressSession());
      app.use(csrfSynchronisedProtection);
    },
  },
  {
    name: 'fastify: @fastify/csrf-protection with @fastify/cookie',
    platform: fastifyPlatform,
    rotates: false,
    configure: (app) => {
      const fastify = app as NestFastifyApplication;
      void fastify.register(fastifyCookie);
      void fastify.register(fastifyCsrf);
      makeToken = (_req, res) => (res as { generateCsrf(): string }).generateCsrf();
      protectWithFastifyCsrf(fastify, 'onRequest');
    },
  },
  {
    name: 'fastify: @fastify/csrf-protection with @fastify/session',
    platform: fastifyPlatform,
    rotates: true,
    configure: (app) => {
      const fastify = app as NestFastifyApplication;
      void fastify.register(fastifyCookie);
      void fastify.register(fastifySession, {
        secret: 'a secret with minimum length of 32 characters',
        cookie: { secure: false },
      });
      void fastify.register(fastifyCsrf, { sessionPlugin: '@fastify/session' });
      makeToken = (_req, res) => (res as { generateCsrf(): string }).generateCsrf();
      // After the session is loaded (preHandler), as the session mode needs.
      protectWithFastifyCsrf(fastify, 'preHandler');
    },
  },
];

interface Step {
  method: 'GET' | 'POST';
  url: string;
  /** The token header: a token from an earlier step (its index), or a literal. */
  token?: number | string;
}

/** Runs the steps directly, then as one batch sent with the first token, from browsers that fetched one first. */
async function compare(t: TestApp, steps: Step[]) {
  /** In the batch, each step runs after the last one before it that succeeded directly (dependsOn skips after a failure). */
  const succeeded: boolean[] = [];
  const after = (index: number): number | undefined => {
    for (let i = index - 1; i >= 0; i -= 1) if (succeeded[i]) return i;
    return undefined;
  };
  const run = async (batched: boolean) => {
    const agent = t.browser();
    const first = ((await agent.get('/csrf/token').expect(200)).body as { token: string }).token;
    const tokens: string[] = [];
    const results: [number, unknown][] = [];
    if (!batched) {
      for (const step of steps) {
        const token = typeof step.token === 'number' ? tokens[step.token] : step.token;
        const call = step.method === 'GET' ? agent.get(step.url) : agent.post(step.url).send({});
        if (token !== undefined) void call.set('x-csrf-token', token);
        const response = await call;
        results.push([response.status, step.url === '/csrf/token' ? 'token' : response.body]);
        succeeded.push(response.status < 300);
        tokens.push((response.body as { token?: string }).token ?? '');
      }
    } else {
      const reply = await agent
        .post('/batch')
        .set('x-csrf-token', first)
        .send({
          data: steps.map((step, index) => ({
            method: step.method,
            url: step.url,
            name: `s${index}`,
            ...(step.method === 'POST' ? { body: {} } : {}),
            ...(after(index) !== undefined ? { dependsOn: [`s${after(index)}`] } : {}),
            ...(step.token !== undefined
              ? {
                  headers: {
                    'x-csrf-token':
                      typeof step.token === 'number'
                        ? `{result=s${step.token}:$.token}`
                        : step.token,
                  },
                }
              : {}),
          })),
        })
        .expect(200);
      for (const [index, entry] of (
        reply.body as { data: { code: number; body: unknown }[] }
      ).data.entries()) {
        results.push([entry.code, steps[index]?.url === '/csrf/token' ? 'token' : entry.body]);
      }
    }
    // And afterwards, directly: does the token the browser last got still work?
    const last = [...tokens].reverse().find((token) => token !== '') ?? first;
    const lastToken = batched ? undefined : last;
    return { results, lastToken };
  };
  const direct = await run(false);
  const batched = await run(true);
  return { direct: direct.results, batched: batched.results };
}

describe.each(cases)('$name', ({ platform, configure, rotates }) => {
  const app = { platform, imports: [CsrfModule], configure };

  it('a token one operation issues is accepted by the next, a missing or wrong one refused, as directly', async () => {
    await withTestApp(app, async (t) => {
      const { direct, batched } = await compare(t, [
        { method: 'GET', url: '/csrf/token' },
        { method: 'POST', url: '/csrf/transfer', token: 0 },
        { method: 'POST', url: '/csrf/transfer' },
        { method: 'POST', url: '/csrf/transfer', token: 'bogus' },
        { method: 'POST', url: '/csrf/transfer', token: 0 },
      ]);
      expect(direct.map(([code]) => code)).toEqual([200, 200, 403, 403, 200]);
      expect(batched).toEqual(direct);
    });
  });

  if (rotates) {
    it('after the session is regenerated (a login), the old token is refused and a new one accepted, as directly', async () => {
      await withTestApp(app, async (t) => {
        const { direct, batched } = await compare(t, [
          { method: 'GET', url: '/csrf/token' },
          { method: 'POST', url: '/csrf/rotate', token: 0 },
          { method: 'GET', url: '/csrf/token' },
          { method: 'POST', url: '/csrf/transfer', token: 2 },
        ]);
        expect(batched).toEqual(direct);
      });
    });
  }
});
