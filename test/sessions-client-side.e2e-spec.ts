import fastifySecureSession from '@fastify/secure-session';
import type { INestApplication } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import cookieSession from 'cookie-session';
import Fastify from 'fastify';
import { randomBytes } from 'node:crypto';
import { SessionAuthModule } from './fixtures/auth.fixtures.js';
import { expressPlatform, fastifyHttp2Platform, fastifyPlatform } from './utils/platforms.js';
import { withTestApp, type TestApp } from './utils/test-app.js';

/**
 * Client-side sessions (the whole session in a cookie) are written by the request that changed
 * them, when its headers go out. The batch request loads its own copy before any operation
 * runs; if the app changes it on every request, as the modules' docs show for keeping a session
 * alive, or the module marks it changed itself (@fastify/secure-session after a key rotation),
 * its stale copy is written on the batch reply after the operations' cookies, and the browser
 * keeps it: a login in a batch does not sign in, a logout in a batch does not sign out.
 */

type Agent = ReturnType<TestApp['browser']>;
interface Step {
  method: 'GET' | 'POST';
  url: string;
  body?: object;
}

/**
 * Runs `prime` then `steps` directly on one browser, and `prime` then `steps` as one batch on
 * another; both then ask `/auth/me` directly. Returns what each browser is signed in as.
 */
async function directVersusBatched(
  t: TestApp,
  steps: Step[],
  prime: (agent: Agent) => Promise<void> = async () => {},
) {
  const direct = t.browser();
  await prime(direct);
  for (const step of steps) {
    const call =
      step.method === 'GET' ? direct.get(step.url) : direct.post(step.url).send(step.body ?? {});
    await call.expect(200);
  }
  const directMe = (await direct.get('/auth/me').expect(200)).body as unknown;

  const batched = t.browser();
  await prime(batched);
  const reply = await batched
    .post('/batch')
    .send({ sequential: true, data: steps.map((step) => ({ ...step })) })
    .expect(200);
  for (const entry of (reply.body as { data: { code: number }[] }).data)
    expect(entry.code).toBe(200);
  const batchedMe = (await batched.get('/auth/me').expect(200)).body as unknown;
  return { directMe, batchedMe };
}

const login: Step = { method: 'POST', url: '/auth/login', body: { user: 'alice' } };
const logout: Step = { method: 'POST', url: '/auth/logout' };

describe('express: cookie-session with the README\'s "Extending the session expiration" middleware', () => {
  /** The clock the middleware reads: a test moves it on as time would pass. */
  let offset = 0;
  const configure = (app: INestApplication): void => {
    app.use(cookieSession({ name: 'session', keys: ['key1', 'key2'] }));
    // From cookie-session's README: update a value so the Set-Cookie is sent, once a minute.
    app.use((req: { session: Record<string, unknown> }, _res: unknown, next: () => void) => {
      req.session.nowInMinutes = Math.floor((Date.now() + offset) / 60e3);
      next();
    });
  };
  const app = { platform: expressPlatform, imports: [SessionAuthModule], configure };

  it('a login in a batch signs a new browser in, as the login sent directly does', async () => {
    await withTestApp(app, async (t) => {
      const { directMe, batchedMe } = await directVersusBatched(t, [login]);
      expect(directMe).toEqual({ user: 'alice' });
      expect(batchedMe).toEqual(directMe);
    });
  });

  it('a logout in a batch a minute after the last request signs the browser out, as the logout sent directly does', async () => {
    await withTestApp(app, async (t) => {
      const prime = async (agent: Agent) => {
        offset = 0;
        await agent.post('/auth/login').send({ user: 'alice' }).expect(200);
        offset = 61_000; // the user reads the page for a minute, then signs out
      };
      const { directMe, batchedMe } = await directVersusBatched(t, [logout], prime);
      expect(directMe).toEqual({ user: null });
      expect(batchedMe).toEqual(directMe);
    });
  });
});

describe('fastify: @fastify/secure-session', () => {
  // Over HTTP/2 too, where the reply's headers are rendered by `writeHead`, not `_storeHeader`.
  it.each([
    ['HTTP/1.1', fastifyPlatform],
    ['HTTP/2', fastifyHttp2Platform],
  ])(
    "%s: a login in a batch signs the browser in when a global hook touches the session (a rolling expiry, README's touch())",
    async (_, platform) => {
      const configure = (app: INestApplication): void => {
        const fastify = app as NestFastifyApplication;
        void fastify.register(fastifySecureSession, {
          key: randomBytes(32),
          cookie: { path: '/', httpOnly: true },
        });
        fastify
          .getHttpAdapter()
          .getInstance()
          .addHook(
            'preHandler',
            (request: { session?: { touch(): void } }, _reply: unknown, done: () => void) => {
              request.session?.touch();
              done();
            },
          );
      };
      await withTestApp({ platform, imports: [SessionAuthModule], configure }, async (t) => {
        const { directMe, batchedMe } = await directVersusBatched(t, [login]);
        expect(directMe).toEqual({ user: 'alice' });
        expect(batchedMe).toEqual(directMe);
        const out = await directVersusBatched(t, [logout], async (agent) => {
          await agent.post('/auth/login').send({ user: 'alice' }).expect(200);
        });
        expect(out.directMe).toEqual({ user: null });
        expect(out.batchedMe).toEqual(out.directMe);
      });
    },
  );

  describe('after a key rotation (key: [newKey, oldKey], as its README shows), with no hook at all', () => {
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    let oldCookie = '';
    beforeAll(async () => {
      // A session cookie the app wrote before the rotation: alice, under the old key.
      const issuer = Fastify();
      await issuer.register(fastifySecureSession, { key: oldKey });
      await issuer.ready();
      const encoder = issuer as unknown as {
        createSecureSession(data: object): unknown;
        encodeSecureSession(session: unknown): string;
      };
      oldCookie = encodeURIComponent(
        encoder.encodeSecureSession(encoder.createSecureSession({ user: 'alice' })),
      );
      await issuer.close();
    });
    const configure = (app: INestApplication): void => {
      void (app as NestFastifyApplication).register(fastifySecureSession, {
        key: [newKey, oldKey],
        cookie: { path: '/', httpOnly: true },
      });
    };
    const app = { platform: fastifyPlatform, imports: [SessionAuthModule], configure };
    /** The browser holds alice's cookie from before the rotation (still accepted). */
    const prime = (agent: Agent): Promise<void> => {
      agent.jar.setCookie(`session=${oldCookie}; Path=/`);
      return Promise.resolve();
    };

    it('a logout in a batch signs the browser out, as the logout sent directly does', async () => {
      await withTestApp(app, async (t) => {
        await t.http
          .get('/auth/me')
          .set('cookie', `session=${oldCookie}`)
          .expect(200, { user: 'alice' });
        const { directMe, batchedMe } = await directVersusBatched(t, [logout], prime);
        expect(directMe).toEqual({ user: null });
        expect(batchedMe).toEqual(directMe);
      });
    });

    it('a login as another user in a batch switches the user, as sent directly', async () => {
      await withTestApp(app, async (t) => {
        const { directMe, batchedMe } = await directVersusBatched(
          t,
          [{ ...login, body: { user: 'bob' } }],
          prime,
        );
        expect(directMe).toEqual({ user: 'bob' });
        expect(batchedMe).toEqual(directMe);
      });
    });
  });
});
