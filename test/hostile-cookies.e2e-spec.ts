import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import {
  Controller,
  Get,
  Headers,
  HttpCode,
  type INestApplication,
  Module,
  Param,
  Post,
  Res,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import cookieParser from 'cookie-parser';
import session from 'express-session';
import { BatchExecutor } from 'nestjs-batch';
import { CounterModule } from './fixtures/sessions.fixtures.js';
import { forEachPlatform, type Platform } from './utils/platforms.js';
import { multipartParts } from './utils/raw-http.js';
import { entries, postBatch, useTestApp, type Entry } from './utils/test-app.js';

const SESSION = 'sid=SESSION-SECRET; Path=/; HttpOnly; Secure; SameSite=Lax';

/** Routes that set cookies as apps do, and one that shows what a request received. */
@Controller('jar')
class CookieRoutesController {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  private set(response: object, value: string): void {
    this.adapterHost.httpAdapter.appendHeader(response, 'set-cookie', value);
  }

  /** Re-issues the session cookie, as a rolling session or a refresh endpoint does. */
  @Get('refresh')
  refresh(@Res({ passthrough: true }) response: object): { ok: true } {
    this.set(response, SESSION);
    return { ok: true };
  }

  /** A cookie without Path: its default path is the request path's directory. */
  @Get('open/:a/:b')
  open(@Res({ passthrough: true }) response: object): { ok: true } {
    this.set(response, 'seen=1; HttpOnly; SameSite=Strict');
    return { ok: true };
  }

  /** One cookie of nearly 4000 bytes, the most a browser keeps per cookie. */
  @Post('big/:n')
  @HttpCode(200)
  big(@Param('n') n: string, @Res({ passthrough: true }) response: object): { ok: true } {
    this.set(response, `big${n}=${'x'.repeat(4000)}; Path=/`);
    return { ok: true };
  }

  @Post('pref')
  @HttpCode(200)
  pref(@Res({ passthrough: true }) response: object): { ok: true } {
    this.set(response, 'pref=1; Path=/');
    return { ok: true };
  }

  @Get('echo')
  echo(@Headers('cookie') cookie: string | undefined): { cookie: string | null } {
    return { cookie: cookie ?? null };
  }
}

@Module({ controllers: [CookieRoutesController] })
class CookieRoutesModule {}

const refresh = { method: 'GET', url: '/jar/refresh' };

/** Every header of an entry, whatever shape the format gives them, names in lower case. */
function headerNames(headers: unknown): string[] {
  if (Array.isArray(headers)) {
    return (headers as { name: string }[]).map((header) => header.name.toLowerCase());
  }
  return Object.keys(headers as object).map((name) => name.toLowerCase());
}

/** Sessions in a `__Host-` cookie, as the cookie-prefix advice has it. */
function hostPrefixedSessions(platform: Platform) {
  return (app: INestApplication): void => {
    // Not Secure in the test, which runs over plain HTTP; the name alone makes the jar's rules.
    if (platform.name === 'express') {
      app.use(cookieParser());
      app.use(
        session({
          name: '__Host-sid',
          secret: 'test secret',
          resave: false,
          saveUninitialized: false,
        }),
      );
      return;
    }
    const fastify = app as NestFastifyApplication;
    void fastify.register(fastifyCookie);
    void fastify.register(fastifySession, {
      cookieName: '__Host-sid',
      secret: 'a secret with minimum length of 32 characters',
      cookie: { secure: false },
    });
  };
}

forEachPlatform((platform) => {
  describe('cookies in entries: never where a script reads them', () => {
    const t = useTestApp({ imports: [CookieRoutesModule] });

    it.each([
      ['by default', '/batch'],
      ['with ?entryHeaders=all', '/batch?entryHeaders=all'],
    ])('native, %s: the entry holds no set-cookie; the reply delivers it', async (_, path) => {
      const response = await t.http
        .post(path)
        .send({ data: [refresh] })
        .expect(200);
      const [entry] = entries(response);
      expect(entry?.body).toEqual({ ok: true });
      expect(headerNames(entry?.headers)).not.toContain('set-cookie');
      expect(JSON.stringify(response.body)).not.toContain('SESSION-SECRET');
      expect(response.headers['set-cookie']).toEqual([SESSION]);
    });

    it('Facebook (include_headers), Graph and multipart entries hold none either', async () => {
      const facebook = await t.http
        .post('/batch')
        .send({ batch: [{ method: 'GET', relative_url: 'jar/refresh' }] })
        .expect(200);
      const [fbEntry] = facebook.body as { headers: unknown }[];
      expect(headerNames(fbEntry?.headers)).not.toContain('set-cookie');
      expect(JSON.stringify(facebook.body)).not.toContain('SESSION-SECRET');
      expect(facebook.headers['set-cookie']).toEqual([SESSION]);

      const graph = await t.http
        .post('/batch')
        .send({ requests: [{ id: '1', method: 'GET', url: '/jar/refresh' }] })
        .expect(200);
      const [graphEntry] = (graph.body as { responses: { headers: unknown }[] }).responses;
      expect(headerNames(graphEntry?.headers)).not.toContain('set-cookie');
      expect(JSON.stringify(graph.body)).not.toContain('SESSION-SECRET');
      expect(graph.headers['set-cookie']).toEqual([SESSION]);

      const boundary = 'b0undary';
      const multipart = await t.http
        .post('/batch')
        .set('content-type', `multipart/mixed; boundary=${boundary}`)
        .send(
          `--${boundary}\r\nContent-Type: application/http\r\n\r\nGET /jar/refresh HTTP/1.1\r\n\r\n\r\n--${boundary}--\r\n`,
        )
        .buffer(true)
        .parse((res, done) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => done(null, Buffer.concat(chunks)));
        })
        .expect(200);
      const [part] = multipartParts(multipart.headers['content-type'], multipart.body as Buffer);
      expect(part?.code).toBe(200);
      expect(headerNames(part?.headers)).not.toContain('set-cookie');
      expect((multipart.body as Buffer).toString('latin1')).not.toContain('SESSION-SECRET');
      expect(multipart.headers['set-cookie']).toEqual([SESSION]);
    });

    it('NDJSON lines hold none', async () => {
      const response = await postBatch(t, [refresh], { accept: 'application/x-ndjson' })
        .buffer(true)
        .parse((res, done) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => done(null, text));
        })
        .expect(200);
      const [line] = (response.body as string)
        .trim()
        .split('\n')
        .map((text) => JSON.parse(text) as Entry);
      expect(line?.code).toBe(200);
      expect(headerNames(line?.headers)).not.toContain('set-cookie');
      expect(response.body).not.toContain('SESSION-SECRET');
    });

    it('still gives the cookie to the operations after the one that set it', async () => {
      const response = await postBatch(t, [
        { ...refresh, name: 'refresh' },
        { method: 'GET', url: '/jar/echo', dependsOn: ['refresh'] },
      ]).expect(200);
      expect(entries(response)[1]?.body).toEqual({ cookie: 'sid=SESSION-SECRET' });
    });

    it("keeps set-cookie in BatchExecutor's results: code is no script, and has no reply", async () => {
      const [entry] = await t.app
        .get(BatchExecutor)
        .execute([{ method: 'GET', url: '/jar/refresh' }]);
      expect(entry?.headers['set-cookie']).toEqual([SESSION]);
    });
  });

  describe('cookies relayed on the reply carry only what the app set', () => {
    const t = useTestApp({ imports: [CookieRoutesModule] });

    it("writes no attribute a url's `;` could inject through the default Path", async () => {
      const url = '/jar/open/x;Max-Age=999999999;SameSite=None;Secure/y';
      const response = await postBatch(t, [{ method: 'GET', url }]).expect(200);
      expect(entries(response)[0]?.code).toBe(200);
      // The directory before the first `;`: it covers every path the default one would.
      expect(response.headers['set-cookie']).toEqual([
        'seen=1; HttpOnly; SameSite=Strict; Path=/jar/open',
      ]);
    });

    it('keeps the default path of an ordinary url', async () => {
      const response = await postBatch(t, [{ method: 'GET', url: '/jar/open/a/b?x=1;y' }]).expect(
        200,
      );
      expect(response.headers['set-cookie']).toEqual([
        'seen=1; HttpOnly; SameSite=Strict; Path=/jar/open/a',
      ]);
    });
  });

  describe("the jar's Cookie header counts toward the header cap", () => {
    const t = useTestApp({ imports: [CookieRoutesModule] });

    it('answers 400 naming the cap for an operation whose cookies take its headers past it', async () => {
      // Three cookies of 4000 bytes and an own header of 6000: each fits, not all together. (Six
      // cookies would pass the cap too, but then the reply's own Set-Cookie headers pass what
      // Node's client reads by default.)
      const setters = Array.from({ length: 3 }, (_, n) => ({
        method: 'POST',
        url: `/jar/big/${n}`,
        name: `big${n}`,
      }));
      const response = await postBatch(t, [
        ...setters,
        {
          method: 'GET',
          url: '/jar/echo',
          headers: { 'x-pad': 'p'.repeat(6000) },
          dependsOn: setters.map((setter) => setter.name),
        },
      ]).expect(200);
      const list = entries(response);
      expect(list.slice(0, 3).map((entry) => entry?.code)).toEqual([200, 200, 200]);
      expect(list[3]?.code).toBe(400);
      expect(list[3]?.body).toMatchObject({
        reason: 'render-failed',
        message: expect.stringMatching(
          /headers take more than 16384 bytes with the batch's cookies added, more than a request of its own may carry/,
        ),
      });
    });

    it('lets cookies that fit through', async () => {
      const response = await postBatch(t, [
        { method: 'POST', url: '/jar/big/0', name: 'big0' },
        { method: 'GET', url: '/jar/echo', dependsOn: ['big0'] },
      ]).expect(200);
      expect(entries(response)[1]?.body).toEqual({ cookie: `big0=${'x'.repeat(4000)}` });
    });
  });

  describe('prefixed cookies of the batch request (__Host-, __Secure-)', () => {
    const t = useTestApp({ imports: [CookieRoutesModule] });

    it('reach every operation after one that set a cookie', async () => {
      const response = await postBatch(
        t,
        [
          { method: 'GET', url: '/jar/echo' },
          { method: 'POST', url: '/jar/pref', name: 'pref' },
          { method: 'GET', url: '/jar/echo', dependsOn: ['pref'] },
        ],
        { cookie: '__Host-sid=h1; __Secure-tok=s1; plain=1' },
      ).expect(200);
      const [before, , after] = entries(response);
      expect(before?.body).toEqual({ cookie: '__Host-sid=h1; __Secure-tok=s1; plain=1' });
      expect(after?.body).toEqual({ cookie: '__Host-sid=h1; __Secure-tok=s1; plain=1; pref=1' });
    });
  });

  describe('a session kept in a __Host- cookie (express-session, @fastify/session)', () => {
    const t = useTestApp({
      imports: [CookieRoutesModule, CounterModule],
      configure: hostPrefixedSessions(platform),
    });

    it('stays the same session in an operation after one that set another cookie', async () => {
      const direct = await t.http.post('/counter/bump').expect(200, { count: 1 });
      const setCookie = ([] as string[]).concat(direct.headers['set-cookie'] ?? []);
      const sid = setCookie
        .map((value) => value.split(';')[0])
        .find((pair) => pair?.startsWith('__Host-sid='));
      expect(sid).toBeDefined();
      const response = await postBatch(
        t,
        [
          { method: 'POST', url: '/jar/pref', name: 'pref' },
          { method: 'POST', url: '/counter/bump', dependsOn: ['pref'] },
        ],
        { cookie: sid as string },
      ).expect(200);
      expect(entries(response)[1]?.body).toEqual({ count: 2 });
    });
  });
});
