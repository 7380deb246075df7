import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  type INestApplication,
  Module,
  Param,
  Post,
  Res,
} from '@nestjs/common';
import cors, { type CorsOptions } from 'cors';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { currentPlatform, forEachPlatform } from './utils/platforms.js';
import { multipartBody, multipartParts } from './utils/raw-http.js';
import {
  entries,
  portOf,
  useTestApp,
  withTestApp,
  type Entry,
  type TestApp,
} from './utils/test-app.js';
import { nodeResponseOf } from './utils/node-response.js';

/**
 * A script on another origin may post a JSON batch with the user's cookies once the app's CORS
 * policy lets it call the batch endpoint. Each operation must then give that script no more than
 * the same request sent directly from its page would: no response the app's CORS policy hides, no
 * request the browser would have preflighted and the app refused, no header it hides, and the
 * app must see the request's Origin and fetch metadata, as on the direct request.
 */

const PARTNER = 'https://partner.example';
const COOKIE = 'session=victim';

/** The CORS policy, mounted on the batch endpoint and `/public` only, as apps mount it per route. */
const POLICY: CorsOptions = {
  origin: PARTNER,
  credentials: true,
  methods: ['GET', 'HEAD', 'POST', 'DELETE'],
  exposedHeaders: ['x-exposed'],
};
const CORS_ROUTES = /^\/(?:batch|public)(?:[/?]|$)/;

/** What ran in the app, by route: the proof that a request did or did not reach its handler. */
const ran = new Map<string, number>();
const hit = (name: string): void => void ran.set(name, (ran.get(name) ?? 0) + 1);
const runs = (name: string): number => ran.get(name) ?? 0;

@Controller()
class CorsRoutesController {
  @Get('private/me')
  me(@Headers('cookie') cookie?: string): { user: string | null; secret: string } {
    hit('GET /private/me');
    return { user: cookie === COOKIE ? 'victim' : null, secret: 'victim-secret' };
  }

  @Delete('private/things/:id')
  removePrivate(@Param('id') id: string): { deleted: string } {
    hit('DELETE /private/things');
    return { deleted: id };
  }

  @Post('private/things')
  @HttpCode(200)
  createPrivate(@Body() body: unknown): { created: unknown } {
    hit('POST /private/things');
    return { created: body };
  }

  /** A form-like POST a page can make a browser send without a preflight: the CSRF check guards it. */
  @Post('private/transfer')
  @HttpCode(200)
  transfer(): { transferred: true } {
    hit('POST /private/transfer');
    return { transferred: true };
  }

  /** A response the partner may not read, that sets a cookie: the browser stores it anyway. */
  @Get('private/visit')
  visit(@Res({ passthrough: true }) reply: object): { visited: true } {
    nodeResponseOf(reply).setHeader('set-cookie', 'visited=1; Path=/; HttpOnly');
    return { visited: true };
  }

  @Get('public/info')
  info(@Res({ passthrough: true }) reply: object): { info: string } {
    const response = nodeResponseOf(reply);
    response.setHeader('x-secret', 'hidden-from-other-origins');
    response.setHeader('x-exposed', 'shown');
    response.setHeader('etag', 'W/"1"');
    response.setHeader('cache-control', 'max-age=60');
    return { info: 'public' };
  }

  @Delete('public/things/:id')
  removePublic(@Param('id') id: string): { deleted: string } {
    hit('DELETE /public/things');
    return { deleted: id };
  }

  /** What the app saw of who sent the request. */
  @Post('public/seen')
  @HttpCode(200)
  seen(@Headers() headers: Record<string, string | undefined>): Record<string, string | null> {
    return {
      origin: headers.origin ?? null,
      site: headers['sec-fetch-site'] ?? null,
      mode: headers['sec-fetch-mode'] ?? null,
      dest: headers['sec-fetch-dest'] ?? null,
    };
  }
}

@Module({ controllers: [CorsRoutesController] })
class CorsRoutesModule {}

/**
 * An Origin check as CSRF middleware makes it: a request that changes state and names an origin
 * other than the app's own is refused; one without Origin (not a browser) passes.
 */
function originCheck(request: IncomingMessage, response: ServerResponse, next: () => void): void {
  const origin = request.headers.origin;
  const safe = ['GET', 'HEAD', 'OPTIONS'].includes(request.method ?? '');
  if (!safe && origin !== undefined && origin !== `http://${request.headers.host}`) {
    response.statusCode = 403;
    response.setHeader('content-type', 'application/json');
    response.end('{"message":"cross-origin request refused"}');
    return;
  }
  next();
}

/** The same CORS policy on either adapter, on the batch endpoint and `/public` alone. */
function configure(app: INestApplication): void {
  if (currentPlatform().name === 'express') {
    app.use(['/batch', '/public'], cors(POLICY));
  } else {
    // @fastify/cors, with its options chosen per route.
    app.enableCors((request: { url?: string }, callback: (e: null, o: object) => void) =>
      callback(null, CORS_ROUTES.test(request.url ?? '') ? POLICY : { origin: false }),
    );
  }
  app.use('/private', originCheck);
}

/** What a browser tells the app about a fetch() from the partner's page, with the user's cookie. */
const FROM_PARTNER = {
  origin: PARTNER,
  cookie: COOKIE,
  'sec-fetch-site': 'cross-site',
  'sec-fetch-mode': 'cors',
  'sec-fetch-dest': 'empty',
};

/** Response headers a script may read of any cross-origin response (Fetch's safelist). */
const SAFELISTED = [
  'cache-control',
  'content-language',
  'content-length',
  'content-type',
  'expires',
  'last-modified',
  'pragma',
];

/** Whether the partner's script may read a credentialed response with these headers. */
function partnerMayRead(headers: Record<string, unknown>): boolean {
  return (
    headers['access-control-allow-origin'] === PARTNER &&
    headers['access-control-allow-credentials'] === 'true'
  );
}

/** What the partner's script may read of a response's headers. */
function readableHeaders(headers: Record<string, string>): string[] {
  const exposed = (headers['access-control-expose-headers'] ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '');
  return Object.keys(headers).filter((name) => SAFELISTED.includes(name) || exposed.includes(name));
}

/** Whether the browser's preflight of `method` (with `headers`) lets the partner's page send it. */
async function preflightPasses(
  t: TestApp,
  url: string,
  method: string,
  headers: string[] = [],
): Promise<boolean> {
  const request = t.http
    .options(url)
    .set({ origin: PARTNER, 'access-control-request-method': method });
  if (headers.length > 0) request.set('access-control-request-headers', headers.join(','));
  const response = await request;
  const allowed = (
    (response.headers as Record<string, string>)['access-control-allow-methods'] ?? ''
  )
    .split(',')
    .map((name) => name.trim());
  return (
    response.status >= 200 &&
    response.status < 300 &&
    partnerMayRead(response.headers) &&
    allowed.includes(method)
  );
}

function postFromPartner(
  t: TestApp,
  data: unknown[],
  headers: Record<string, string> = FROM_PARTNER,
) {
  return t.http.post('/batch').set(headers).send({ data });
}

function expectCorsRefusal(entry: Entry | null): void {
  expect(entry).not.toBeNull();
  expect(entry?.code).toBe(403);
  expect(entry?.body).toMatchObject({ statusCode: 403, reason: 'cors' });
  // Nothing of the app's answer: its body, its status, its headers.
  expect(JSON.stringify(entry?.body)).not.toContain('victim');
  expect(Object.keys(entry?.headers ?? {})).toEqual(['content-type']);
}

forEachPlatform(() => {
  describe('with a CORS policy per route', () => {
    const t = useTestApp({
      imports: [CorsRoutesModule],
      strictValidation: false,
      configure,
    });
    beforeEach(() => ran.clear());

    it("lets the partner's script call the batch endpoint (the premise)", async () => {
      const response = await postFromPartner(t, [{ method: 'GET', url: '/public/info' }]);
      expect(response.status).toBe(200);
      expect(partnerMayRead(response.headers)).toBe(true);
    });

    it('(a) does not let it read through the batch a response it cannot read directly', async () => {
      const direct = await t.http.get('/private/me').set(FROM_PARTNER).expect(200);
      expect(partnerMayRead(direct.headers)).toBe(false);

      const response = await postFromPartner(t, [{ method: 'GET', url: '/private/me' }]);
      expect(response.status).toBe(200);
      // The browser sends such a GET (no preflight): it runs, but its answer stays hidden.
      expect(runs('GET /private/me')).toBe(2);
      expectCorsRefusal(entries(response)[0] ?? null);
    });

    it('(a) gives what depends on a hidden response a 424, and no reference reads it', async () => {
      const response = await postFromPartner(t, [
        { method: 'GET', url: '/private/me', name: 'me' },
        { method: 'POST', url: '/public/seen', body: { user: '{result=me:$.user}' } },
        { method: 'GET', url: '/public/info', dependsOn: ['me'] },
      ]);
      const [me, reference, dependent] = entries(response);
      expectCorsRefusal(me ?? null);
      expect(reference?.code).toBe(424);
      expect(dependent?.code).toBe(424);
    });

    it.each([
      ['DELETE', { method: 'DELETE', url: '/private/things/1' }, 'DELETE /private/things', []],
      [
        'a JSON POST with a header of its own',
        {
          method: 'POST',
          url: '/private/things',
          headers: { 'x-custom': '1' },
          body: { name: 'x' },
        },
        'POST /private/things',
        ['content-type', 'x-custom'],
      ],
    ])(
      '(b) does not run %s, which the browser would have preflighted and the app refused',
      async (_, operation, route, unsafeHeaders) => {
        expect(await preflightPasses(t, operation.url, operation.method, unsafeHeaders)).toBe(
          false,
        );
        const response = await postFromPartner(t, [operation]);
        expect(runs(route)).toBe(0);
        expectCorsRefusal(entries(response)[0] ?? null);
      },
    );

    it('(b) runs a DELETE the preflight allows, and lets the script read its answer', async () => {
      expect(await preflightPasses(t, '/public/things/1', 'DELETE')).toBe(true);
      const direct = await t.http.delete('/public/things/1').set(FROM_PARTNER).expect(200);
      expect(runs('DELETE /public/things')).toBe(1);

      const response = await postFromPartner(t, [{ method: 'DELETE', url: '/public/things/1' }]);
      expect(runs('DELETE /public/things')).toBe(2);
      const [entry] = entries(response);
      expect(entry?.code).toBe(200);
      expect(entry?.body).toEqual(direct.body);
    });

    it('(c) keeps only the headers a script may read of the direct response', async () => {
      const direct = await t.http.get('/public/info').set(FROM_PARTNER).expect(200);
      expect(partnerMayRead(direct.headers)).toBe(true);
      expect(direct.headers).toHaveProperty('x-secret');
      expect(direct.headers).toHaveProperty('etag');

      const response = await postFromPartner(t, [{ method: 'GET', url: '/public/info' }]);
      const [entry] = entries(response);
      expect(entry?.code).toBe(200);
      expect(entry?.body).toEqual(direct.body);
      const readable = readableHeaders(direct.headers);
      expect(readable).toEqual(expect.arrayContaining(['x-exposed', 'content-type']));
      for (const name of Object.keys(entry?.headers ?? {})) expect(readable).toContain(name);
      expect(entry?.headers).not.toHaveProperty('x-secret');
      expect(entry?.headers).not.toHaveProperty('etag');
      expect(entry?.headers).not.toHaveProperty('access-control-allow-origin');
      expect(entry?.headers['x-exposed']).toBe('shown');
    });

    it('(d) shows the app the Origin and fetch metadata the direct request carries', async () => {
      const direct = await t.http.post('/public/seen').set(FROM_PARTNER).send({}).expect(200);
      expect(direct.body).toMatchObject({ origin: PARTNER, site: 'cross-site' });

      const response = await postFromPartner(t, [
        { method: 'POST', url: '/public/seen', body: {} },
      ]);
      const [entry] = entries(response);
      expect(entry?.code).toBe(200);
      expect(entry?.body).toEqual(direct.body);
    });

    it("(d) does not get a state change past the app's Origin check", async () => {
      await t.http
        .post('/private/transfer')
        .set(FROM_PARTNER)
        .set('content-type', 'text/plain')
        .send('amount=100')
        .expect(403);
      expect(runs('POST /private/transfer')).toBe(0);

      const response = await postFromPartner(t, [
        {
          method: 'POST',
          url: '/private/transfer',
          headers: { 'content-type': 'text/plain' },
          body: 'amount=100',
        },
      ]);
      expect(runs('POST /private/transfer')).toBe(0);
      expectCorsRefusal(entries(response)[0] ?? null);
    });

    it("holds in a multipart batch, whose parts take the batch request's other headers", async () => {
      const boundary = 'b0undary';
      const response = await t.http
        .post('/batch')
        .set(FROM_PARTNER)
        .set('content-type', `multipart/mixed; boundary=${boundary}`)
        .send(
          multipartBody(boundary, [
            { http: 'GET /private/me HTTP/1.1\r\n\r\n' },
            { http: 'GET /public/info HTTP/1.1\r\n\r\n' },
            { http: 'DELETE /private/things/3 HTTP/1.1\r\n\r\n' },
          ]),
        )
        .buffer(true)
        .parse((res, done) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => done(null, Buffer.concat(chunks)));
        })
        .expect(200);
      const [me, info, removed] = multipartParts(
        response.headers['content-type'],
        response.body as Buffer,
      );
      expect(me?.code).toBe(403);
      expect(me?.body.toString()).not.toContain('victim');
      expect(info?.code).toBe(200);
      expect(info?.headers).not.toHaveProperty('x-secret');
      expect(removed?.code).toBe(403);
      expect(runs('DELETE /private/things')).toBe(0);
    });

    it('relays the cookies a hidden response sets, as the browser stores them from it', async () => {
      const response = await postFromPartner(t, [{ method: 'GET', url: '/private/visit' }]);
      expectCorsRefusal(entries(response)[0] ?? null);
      expect(response.headers['set-cookie']).toEqual(['visited=1; Path=/; HttpOnly']);
    });

    // And any other `Sec-` header: no script can set one (the client hints, Global Privacy
    // Control's opt-out, which the operations inherit from the browser's batch request).
    it.each([
      'Origin',
      'Sec-Fetch-Site',
      'Sec-Fetch-Mode',
      'Sec-Fetch-Dest',
      'Sec-Fetch-User',
      'Sec-GPC',
      'Sec-CH-UA-Mobile',
    ])('refuses an operation that sets %s: the browser sets it', async (name) => {
      const response = await postFromPartner(t, [
        { method: 'GET', url: '/private/me', headers: { [name]: 'same-origin' } },
      ]);
      expect(response.status).toBe(400);
      expect(JSON.stringify(response.body)).toContain(name);
      expect(runs('GET /private/me')).toBe(0);
    });

    it("lets the app's own page read everything, as it may directly", async () => {
      const own = {
        origin: `http://127.0.0.1:${portOf(t)}`,
        cookie: COOKIE,
        'sec-fetch-site': 'same-origin',
      };
      const response = await postFromPartner(
        t,
        [
          { method: 'GET', url: '/private/me' },
          { method: 'DELETE', url: '/private/things/2' },
        ],
        own,
      );
      const [me, removed] = entries(response);
      expect(me).toMatchObject({ code: 200, body: { user: 'victim' } });
      expect(removed).toMatchObject({ code: 200, body: { deleted: '2' } });
    });

    it('judges a batch without fetch metadata by its Origin against its Host', async () => {
      const host = `127.0.0.1:${portOf(t)}`;
      const ownOrigin = await postFromPartner(t, [{ method: 'GET', url: '/private/me' }], {
        origin: `http://${host}`,
        cookie: COOKIE,
      });
      expect(entries(ownOrigin)[0]).toMatchObject({ code: 200, body: { user: 'victim' } });
      const partner = await postFromPartner(t, [{ method: 'GET', url: '/private/me' }], {
        origin: PARTNER,
        cookie: COOKIE,
      });
      expectCorsRefusal(entries(partner)[0] ?? null);
    });

    it('changes nothing for a client that is not a browser (no Origin)', async () => {
      const response = await postFromPartner(
        t,
        [
          { method: 'GET', url: '/private/me' },
          { method: 'GET', url: '/public/info' },
        ],
        { cookie: COOKIE },
      );
      const [me, info] = entries(response);
      expect(me).toMatchObject({ code: 200, body: { user: 'victim' } });
      expect(info?.headers).toHaveProperty('x-secret');
    });
  });

  it("reads every entry under operationCors: 'off'", async () => {
    await withTestApp(
      {
        imports: [CorsRoutesModule],
        strictValidation: false,
        configure,
        batch: { operationCors: 'off' },
      },
      async (app) => {
        const response = await postFromPartner(app, [{ method: 'GET', url: '/private/me' }]);
        expect(entries(response)[0]).toMatchObject({ code: 200, body: { user: 'victim' } });
      },
    );
  });
});
