import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import {
  type CallHandler,
  type ExecutionContext,
  type INestApplication,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { tap, type Observable } from 'rxjs';
import { SessionAuthModule } from './fixtures/auth.fixtures.js';
import { fastifyPlatform, type FastifyHooks } from './utils/platforms.js';
import { withTestApp, type TestApp } from './utils/test-app.js';

/**
 * @fastify/session: `request.session` is there on every request (the plugin's docs), so apps
 * read it in global hooks and interceptors (audit logs, a header naming the user). The library
 * sets the batch request's `request.session` to null to keep it from being saved; code that runs
 * on the batch request after the handler then throws, and the whole batch reply becomes a 500
 * after every operation ran.
 */
interface SessionRequest {
  session: { get(key: string): unknown };
}

type OnSend = (
  request: SessionRequest,
  reply: { header(name: string, value: string): void },
  payload: unknown,
  done: () => void,
) => void;

/** A global `onSend` hook on the app's Fastify instance. */
function onSend(fastify: NestFastifyApplication, hook: OnSend): void {
  (fastify.getHttpAdapter().getInstance() as FastifyHooks).addHook('onSend', hook);
}

const mountSession = (fastify: NestFastifyApplication): void => {
  void fastify.register(fastifyCookie);
  void fastify.register(fastifySession, {
    secret: 'a secret with minimum length of 32 characters',
    cookie: { secure: false },
  });
};

/** Signed in as alice, a GET /auth/me sent directly, then in a batch. */
async function directThenBatched(t: TestApp) {
  const agent = t.browser();
  await agent.post('/auth/login').send({ user: 'alice' }).expect(200);
  const direct = await agent.get('/auth/me');
  const batch = await agent.post('/batch').send({ data: [{ method: 'GET', url: '/auth/me' }] });
  return { direct, batch };
}

describe('fastify: @fastify/session read after the handler, on every request', () => {
  it('a global onSend hook that reads request.session (a header naming the user): the batch is answered as the request is', async () => {
    const configure = (app: INestApplication): void => {
      const fastify = app as NestFastifyApplication;
      mountSession(fastify);
      onSend(fastify, (request, reply, _payload, done) => {
        const user = request.session.get('user');
        reply.header('x-user', typeof user === 'string' ? user : 'anonymous');
        done();
      });
    };
    await withTestApp(
      { platform: fastifyPlatform, imports: [SessionAuthModule], configure },
      async (t) => {
        const { direct, batch } = await directThenBatched(t);
        expect(direct.status).toBe(200);
        expect(direct.headers['x-user']).toBe('alice');
        expect(batch.status).toBe(200);
        const [entry] = (batch.body as { data: { code: number; body: unknown }[] }).data;
        expect(entry?.code).toBe(direct.status);
        expect(entry?.body).toEqual(direct.body);
      },
    );
  });

  it('a global audit interceptor that logs the session user after the handler: the batch is answered as the request is', async () => {
    const seen: unknown[] = [];
    @Injectable()
    class AuditInterceptor implements NestInterceptor {
      intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
        const request = context.switchToHttp().getRequest<SessionRequest>();
        return next.handle().pipe(tap(() => seen.push(request.session.get('user'))));
      }
    }
    const configure = (app: INestApplication): void => {
      mountSession(app as NestFastifyApplication);
      app.useGlobalInterceptors(new AuditInterceptor());
    };
    await withTestApp(
      { platform: fastifyPlatform, imports: [SessionAuthModule], configure },
      async (t) => {
        const { direct, batch } = await directThenBatched(t);
        expect(direct.status).toBe(200);
        expect(batch.status).toBe(200);
        const [entry] = (batch.body as { data: { code: number; body: unknown }[] }).data;
        expect(entry?.body).toEqual(direct.body);
      },
    );
  });

  it('the operations of the 500 batch have run: a client that retries it runs them twice', async () => {
    const configure = (app: INestApplication): void => {
      const fastify = app as NestFastifyApplication;
      mountSession(fastify);
      onSend(fastify, (request, _reply, _payload, done) => {
        request.session.get('user');
        done();
      });
    };
    await withTestApp({ platform: fastifyPlatform, configure }, async (t) => {
      await t.http.post('/echo').send({ a: 0 }).expect(200);
      expect(t.recorder.count('echo')).toBe(1);
      const batch = await t.http.post('/batch').send({
        data: [
          { method: 'POST', url: '/echo', body: { a: 1 } },
          { method: 'POST', url: '/echo', body: { a: 2 } },
        ],
      });
      expect(t.recorder.count('echo')).toBe(3);
      expect(batch.status).toBe(200);
    });
  });
});
