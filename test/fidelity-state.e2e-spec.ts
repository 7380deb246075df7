/**
 * The batch's cookie jar against a browser that sends the same requests one after the other
 * (RFC 6265bis, as Chromium applies it): which cookies an operation after a `Set-Cookie`
 * receives, in which order, and what the reply relays for the browser to store. Each test says
 * what the browser does directly; the batch must do the same.
 */
import { Controller, Get, Module, Param, Query, Req, Res } from '@nestjs/common';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { startChildApp, type ChildApp } from './utils/child-app.js';
import { bodyText } from './utils/direct-view.js';
import { forEachPlatform } from './utils/platforms.js';
import { entries, postBatch, useTestApp, type Entry, type TestApp } from './utils/test-app.js';
import { nodeRequestOf, nodeResponseOf } from './utils/node-response.js';

@Controller('state')
class StateController {
  /** Answers with the `Set-Cookie` headers given as `c` (repeatable). */
  @Get('set')
  set(@Query('c') c: string | string[], @Res() reply: object): void {
    const res = nodeResponseOf(reply);
    res.setHeader('set-cookie', Array.isArray(c) ? c : [c]);
    res.end('ok');
  }

  /** A logout that clears the site's cookies, as OWASP advises, and sets one more. */
  @Get('clear')
  clear(@Res() reply: object): void {
    const res = nodeResponseOf(reply);
    res.setHeader('clear-site-data', '"cache", "cookies"');
    res.setHeader('set-cookie', 'after=1; Path=/');
    res.end('ok');
  }

  /** Sets `<name>=<x...>` whose name and value take `length` bytes. */
  @Get('sized/:name/:length')
  sized(@Param('name') name: string, @Param('length') length: string, @Res() reply: object): void {
    const res = nodeResponseOf(reply);
    res.setHeader('set-cookie', `${name}=${'x'.repeat(Number(length) - name.length)}; Path=/`);
    res.end('ok');
  }

  /** The Cookie header the request arrived with. */
  @Get(['echo', 'a/echo'])
  echo(@Req() request: object): { cookie: string | null } {
    return { cookie: nodeRequestOf(request).headers.cookie ?? null };
  }
}

@Module({ controllers: [StateController] })
class StateModule {}

/** An operation answering with these Set-Cookie headers. */
function setting(name: string, ...cookies: string[]): object {
  const query = cookies.map((cookie) => `c=${encodeURIComponent(cookie)}`).join('&');
  return { method: 'GET', url: `/state/set?${query}`, name };
}

/** An operation after `after` that shows the Cookie header it received. */
function echo(url: string, after = 'set'): object {
  return { method: 'GET', url, dependsOn: [after] };
}

interface Seen {
  /** The Cookie header each echo operation received (null: none). */
  cookies: (string | null | undefined)[];
  /** The reply's Set-Cookie headers. */
  relayed: string[];
}

async function run(
  t: TestApp,
  data: object[],
  headers: Record<string, string> = {},
): Promise<Seen> {
  const response = await postBatch(t, data, headers).expect(200);
  const all = entries(response);
  for (const entry of all) expect(entry?.code).toBe(200);
  return {
    cookies: all.map((entry) => (entry?.body as { cookie?: string | null }).cookie),
    relayed: (response.headers['set-cookie'] as unknown as string[] | undefined) ?? [],
  };
}

forEachPlatform(() => {
  describe("a cookie a browser refuses to store is not in the batch's jar either", () => {
    const t = useTestApp({ imports: [StateModule] });

    // Directly: RFC 6265bis 5.7 step 5 (Chromium, Firefox) ignores a cookie whose name and value
    // take more than 4096 octets; the next request has no such cookie.
    it('one whose name and value take more than 4096 bytes', async () => {
      const seen = await run(t, [
        { method: 'GET', url: '/state/sized/fits/4096', name: 'fits' },
        { method: 'GET', url: '/state/sized/over/4097', name: 'set', dependsOn: ['fits'] },
        echo('/state/echo'),
      ]);
      expect(seen.cookies[2]).toBe(`fits=${'x'.repeat(4092)}`);
    });

    // Directly: RFC 6265bis 5.7 step 19 ignores `SameSite=None` without `Secure` (Chromium,
    // Firefox, Safari).
    it('SameSite=None without Secure', async () => {
      const seen = await run(t, [
        setting('set', 'loose=1; Path=/; SameSite=None', 'tight=1; Path=/; SameSite=None; Secure'),
        echo('/state/echo'),
      ]);
      expect(seen.cookies[1]).toBe('tight=1');
    });
  });

  describe('a batch a page of another site sent (Sec-Fetch-Site: cross-site)', () => {
    const t = useTestApp({
      imports: [StateModule],
      configure: (app) => app.enableCors({ origin: true, credentials: true }),
    });
    const page = (site: string): Record<string, string> => ({
      origin: 'https://shop.example',
      'sec-fetch-site': site,
      cookie: 'theirs=1',
    });
    const cookies = [
      'lax=1; Path=/; SameSite=Lax',
      'strict=1; Path=/; SameSite=Strict',
      'unsaid=1; Path=/',
      'none=1; Path=/; SameSite=None; Secure',
    ];

    // Directly: the page's fetch is a cross-site request, and RFC 6265bis 5.7 step 22 ignores
    // every cookie its responses set but `SameSite=None` ones (one without the attribute too,
    // as in Chromium): the page's next request sends none of them.
    it('keeps only the SameSite=None cookies its operations set', async () => {
      const seen = await run(
        t,
        [setting('set', ...cookies), echo('/state/echo')],
        page('cross-site'),
      );
      expect(seen.cookies[1]).toBe('theirs=1; none=1');
    });

    // Directly: a page that logs in with `credentials: 'include'` has no cookie yet; the
    // browser stores the session the login sets, and sends it with the next request.
    it('keeps them for a page whose batch may carry credentials, before it has any cookie', async () => {
      const firstVisit = { origin: 'https://shop.example', 'sec-fetch-site': 'cross-site' };
      const seen = await run(t, [setting('set', ...cookies), echo('/state/echo')], firstVisit);
      expect(seen.cookies[1]).toBe('none=1');
    });

    // Directly: a same-site page's requests store and send them all.
    it('keeps them all for a same-site page', async () => {
      const seen = await run(
        t,
        [setting('set', ...cookies), echo('/state/echo')],
        page('same-site'),
      );
      expect(seen.cookies[1]).toBe('theirs=1; lax=1; strict=1; unsaid=1; none=1');
    });
  });

  describe('a batch a page of another origin sent without credentials', () => {
    // The app's CORS policy allows any origin (`*`) and no credentials, as a public API's does:
    // a page's fetch() to it works only without credentials (the client's default
    // `credentials: 'same-origin'`), and then the browser neither sends cookies nor stores
    // those the responses set (Fetch, "HTTP-network fetch", steps 11 and 16).
    const t = useTestApp({ imports: [StateModule], configure: (app) => app.enableCors() });
    const page = { origin: 'https://shop.example', 'sec-fetch-site': 'cross-site' };

    // Directly: the second request goes without the cookie the first one set, and the page
    // reads it under `*`.
    it('keeps no cookie an operation set: the next one is sent without, and readable under *', async () => {
      const response = await postBatch(
        t,
        [setting('set', 'visitor=1; Path=/; SameSite=None; Secure'), echo('/state/echo')],
        page,
      ).expect(200);
      expect(entries(response)[1]).toMatchObject({ code: 200, body: { cookie: null } });
    });
  });

  describe('cookies of the batch request and cookies operations set, together', () => {
    const t = useTestApp({ imports: [StateModule] });

    // Directly: `Set-Cookie: solo` is a cookie with an empty name, sent back as `solo`
    // (RFC 6265bis 5.6, 5.8.3; Chromium, Firefox).
    it('a nameless cookie an operation set is sent', async () => {
      const seen = await run(t, [setting('set', 'solo; Path=/'), echo('/state/echo')], {
        cookie: 'a=1',
      });
      expect(seen.cookies[1]).toBe('a=1; solo');
    });

    // Directly: the browser holds `lang=en` for Path=/ (it sent it to /batch). A `lang` set for
    // /state/a is another cookie: /state/echo still gets `lang=en`; /state/a/echo gets both, the
    // longer path first (RFC 6265bis 5.8.3), so a parser reading the first sees `fr`.
    it('a cookie set for a path of its own leaves the inherited one of that name elsewhere', async () => {
      const seen = await run(
        t,
        [setting('set', 'lang=fr; Path=/state/a'), echo('/state/echo'), echo('/state/a/echo')],
        { cookie: 'lang=en; theme=dark' },
      );
      expect(seen.cookies.slice(1)).toEqual([
        'lang=en; theme=dark',
        'lang=fr; lang=en; theme=dark',
      ]);
    });

    // Directly: deleting `sid` at Path=/state/a deletes no cookie the browser sent to /batch
    // (those have a path /batch is under), so `sid=keep` is still sent.
    it("a deletion for another path leaves the batch request's cookie", async () => {
      const seen = await run(
        t,
        [setting('set', 'sid=; Path=/state/a; Max-Age=0'), echo('/state/echo')],
        { cookie: 'sid=keep' },
      );
      expect(seen.cookies[1]).toBe('sid=keep');
    });
  });

  describe('a response with Clear-Site-Data: "cookies" (a logout)', () => {
    const t = useTestApp({ imports: [StateModule] });
    const clear = (after: string): object => ({
      method: 'GET',
      url: '/state/clear',
      name: 'clear',
      dependsOn: [after],
    });

    // Directly (Chromium): the browser deletes every cookie of the site once the response is in,
    // those the response itself set too; the next request carries none.
    it("leaves the later operations no cookie, and the reply clears the browser's", async () => {
      const response = await postBatch(
        t,
        [setting('set', 'a=1; Path=/'), clear('set'), echo('/state/echo', 'clear')],
        { cookie: 'sid=mine' },
      ).expect(200);
      expect(entries(response)[2]?.body).toEqual({ cookie: null });
      expect(response.headers['set-cookie']).toBeUndefined();
      expect(response.headers['clear-site-data']).toBe('"cookies", "cache"');
    });

    // Directly: a cookie set after the logout is kept, and sent. The reply still clears the
    // browser's cookies, then sets it; a browser that clears after storing a response's
    // cookies (Chromium) drops it too, and the app sets it again on the next request.
    it('keeps what operations after it set', async () => {
      const response = await postBatch(
        t,
        [
          clear('none'),
          { ...setting('set', 'b=1; Path=/'), dependsOn: ['clear'] },
          echo('/state/echo'),
        ].map((operation, index) =>
          index === 0 ? { ...operation, dependsOn: undefined } : operation,
        ),
        { cookie: 'sid=mine' },
      ).expect(200);
      expect(entries(response)[2]?.body).toEqual({ cookie: 'b=1' });
      expect(response.headers['set-cookie']).toEqual(['b=1; Path=/']);
      expect(response.headers['clear-site-data']).toBe('"cookies", "cache"');
    });
  });

  describe('what the reply relays', () => {
    const t = useTestApp({ imports: [StateModule] });

    // Directly: the browser stores `sid=a`, then refuses `sid=b` (SameSite=None without
    // Secure) and keeps `sid=a`. A refused cookie must not take the place of the one before it
    // on the reply: the browser would end with neither.
    it('a cookie the browser refuses does not hide the one set before it', async () => {
      const seen = await run(t, [
        setting('set', 'sid=a; Path=/'),
        { ...setting('again', 'sid=b; Path=/; SameSite=None'), dependsOn: ['set'] },
        echo('/state/echo', 'again'),
      ]);
      expect(seen.cookies[2]).toBe('sid=a');
      expect(seen.relayed).toEqual(['sid=a; Path=/', 'sid=b; Path=/; SameSite=None']);
    });
  });
});

/**
 * Conditional and range requests, and HEAD, to a static file (@nestjs/serve-static: `send` on
 * Express, @fastify/static on Fastify), sent directly by an HTTP client that adds no header of
 * its own, and as operations carrying the same headers: the same status, body and validators.
 */
forEachPlatform((platform) => {
  describe('conditional, range and HEAD requests to a static file', () => {
    const root = mkdtempSync(join(tmpdir(), 'batch-state-'));
    writeFileSync(join(root, 'file.txt'), 'hello world, static file\n');
    let app: ChildApp | undefined;
    beforeAll(async () => {
      // See there why it is a process of its own.
      app = await startChildApp('spa-app.mjs', platform, { ROOT: root });
    });
    afterAll(async () => {
      await app?.stop();
      rmSync(root, { recursive: true, force: true });
    });

    /** The answer of a direct request, in an entry's terms. */
    function direct(method: string, headers: Record<string, string>): Promise<object> {
      return new Promise((resolve, reject) => {
        const target = new URL('/spa/file.txt', app?.base);
        const req = httpRequest(target, { method, headers, agent: false }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve(viewOf(res.statusCode ?? 0, res.headers, body)));
        });
        req.on('error', reject);
        req.end();
      });
    }

    function viewOf(code: number, headers: Record<string, unknown>, body: unknown): object {
      const { etag, 'content-range': range, 'content-length': length } = headers;
      return { code, etag, range, length, body: body === undefined ? '' : body };
    }

    async function batched(method: string, headers: Record<string, string>): Promise<object> {
      const response = await request(app?.base ?? '')
        .post('/batch?entryHeaders=all')
        .send({ data: [{ method, url: '/spa/file.txt', headers }] })
        .expect(200);
      const [entry] = (response.body as { data: Entry[] }).data;
      return viewOf(entry?.code ?? 0, entry?.headers ?? {}, entry && bodyText(entry));
    }

    it('answers each as the direct request', async () => {
      const { etag } = (await direct('GET', {})) as { etag: string };
      const cases: [string, Record<string, string>][] = [
        ['GET', {}],
        ['HEAD', {}],
        ['GET', { range: 'bytes=0-4' }],
        ['GET', { range: 'bytes=100-200' }],
        ['GET', { 'if-none-match': etag }],
        ['GET', { range: 'bytes=0-4', 'if-range': '"stale"' }],
        ['GET', { range: 'bytes=0-4', 'if-range': etag }],
      ];
      for (const [method, headers] of cases) {
        expect([method, headers, await batched(method, headers)]).toEqual([
          method,
          headers,
          await direct(method, headers),
        ]);
      }
    });
  });
});
