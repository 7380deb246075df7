/**
 * Cookies batched as they are sent directly: the batch request's own cookies as operations after
 * a Set-Cookie receive them, the Set-Cookie headers the reply relays, and the entries' headers.
 */
import { Controller, Get, Module, Param, Req, Res } from '@nestjs/common';
import { forEachPlatform } from './utils/platforms.js';
import { entries, postBatch, useTestApp } from './utils/test-app.js';
import { nodeRequestOf, nodeResponseOf } from './utils/node-response.js';

@Controller('adv-cookies')
class FidelityCookiesController {
  @Get('set')
  set(@Res() reply: object): void {
    const res = nodeResponseOf(reply);
    res.setHeader('set-cookie', 'pref=1; Path=/');
    res.end('ok');
  }

  @Get('pref/:value')
  pref(@Param('value') value: string, @Res() reply: object): void {
    const res = nodeResponseOf(reply);
    res.setHeader('set-cookie', [`pref=${value}; Path=/`, `pref=${value}; Path=/adv-cookies`]);
    res.end('ok');
  }

  @Get('set2')
  set2(@Res() reply: object): void {
    const res = nodeResponseOf(reply);
    res.setHeader('set-cookie2', 'legacy=SECRET; Version=1');
    res.end('ok');
  }

  /** A rolling session (express-session `rolling: true`, a JWT refreshed on each response). */
  @Get('rolling')
  rolling(@Res() reply: object): void {
    const res = nodeResponseOf(reply);
    res.setHeader('set-cookie', `session=${'s'.repeat(1500)}; Path=/; HttpOnly; Secure`);
    res.end('ok');
  }

  @Get('echo')
  echo(@Req() request: object): { cookie: string | undefined } {
    return { cookie: nodeRequestOf(request).headers.cookie };
  }
}

/** A __Host- cookie without the Path=/ its prefix requires: a browser refuses it. */
@Controller()
class HostPrefixController {
  @Get('adv-host-prefix')
  hostPrefix(@Res() reply: object): void {
    const res = nodeResponseOf(reply);
    res.setHeader('set-cookie', '__Host-sid=attacker; Secure; HttpOnly');
    res.end('ok');
  }
}

@Module({ controllers: [FidelityCookiesController, HostPrefixController] })
class FidelityCookiesModule {}

forEachPlatform(() => {
  const t = useTestApp({ imports: [FidelityCookiesModule] });

  /** The operation after one that set `pref=1`: what Cookie header it received. */
  async function cookieAfterASetCookie(cookie: string): Promise<string | undefined> {
    const response = await postBatch(
      t,
      [
        { method: 'GET', url: '/adv-cookies/set', name: 'set' },
        { method: 'GET', url: '/adv-cookies/echo', dependsOn: ['set'] },
      ],
      { cookie },
    ).expect(200);
    return (entries(response)[1]?.body as { cookie?: string }).cookie;
  }

  // Directly (a browser after the same Set-Cookie): `sid=path-specific; sid=root; pref=1`, and
  // every cookie parser (cookie, cookie-parser, @fastify/cookie) reads the first, `path-specific`.
  it('two cookies of one name (different paths) keep both, in the order the browser sent', async () => {
    const cookie = await cookieAfterASetCookie('sid=path-specific; sid=root');
    expect(cookie).toBe('sid=path-specific; sid=root; pref=1');
  });

  // Directly: the browser replaces the cookie the response set again, and keeps the others.
  it('an inherited cookie an operation sets again is sent with its new value only', async () => {
    const cookie = await cookieAfterASetCookie('pref=0; plain=1');
    expect(cookie).toBe('plain=1; pref=1');
  });

  // Directly: the app receives `legacy; plain=1; pref=1` (a nameless cookie, as browsers send
  // for `Set-Cookie: legacy`).
  it('a nameless cookie is still sent after a Set-Cookie', async () => {
    const cookie = await cookieAfterASetCookie('legacy; plain=1');
    expect(cookie?.split('; ')).toEqual(expect.arrayContaining(['legacy', 'plain=1', 'pref=1']));
  });

  // Directly: fetch() never shows a script Set-Cookie2 (a forbidden response-header name, as
  // Set-Cookie is); the entry hands it to the script, under either entryHeaders policy.
  it.each(['', '?entryHeaders=all'])('an entry carries no set-cookie2 (%s)', async (query) => {
    const response = await t.http
      .post(`/batch${query}`)
      .send({ data: [{ method: 'GET', url: '/adv-cookies/set2' }] })
      .expect(200);
    expect(entries(response)[0]?.headers).not.toHaveProperty('set-cookie2');
  });

  // Directly: each response carries one 1.5 KB Set-Cookie, which any client reads, and the
  // browser ends with the last. The reply carries that one cookie once: repeated per operation
  // (30 KB of headers), Node's clients (http, fetch; 16 KiB --max-http-header-size) could not
  // parse it (HPE_HEADER_OVERFLOW), nor nginx in front with its default 4-8 KB proxy buffers.
  it('a cookie set again by each of 20 operations leaves a reply a client can read', async () => {
    const data = Array.from({ length: 20 }, () => ({ method: 'GET', url: '/adv-cookies/rolling' }));
    const response = await postBatch(t, data).expect(200);
    expect(response.headers['set-cookie']).toHaveLength(1);
  });

  // Directly: the browser ends with one cookie per name, domain and path, the last one set.
  it('the reply carries the last value of each cookie, one per path', async () => {
    const response = await postBatch(t, [
      { method: 'GET', url: '/adv-cookies/pref/a', name: 'a' },
      { method: 'GET', url: '/adv-cookies/pref/b', dependsOn: ['a'] },
    ]).expect(200);
    expect(response.headers['set-cookie']).toEqual(['pref=b; Path=/', 'pref=b; Path=/adv-cookies']);
  });

  // Directly: `__Host-sid=attacker; Secure; HttpOnly` has no Path attribute, so a browser refuses
  // it (RFC 6265bis 4.1.3.2: __Host- needs `Path=/` written). The reply relays it as set, without
  // the url's default path (`/`) a cookie without Path gets, so the browser refuses it as well.
  it('a __Host- cookie set without Path is not made valid by the relayed default path', async () => {
    const response = await postBatch(t, [{ method: 'GET', url: '/adv-host-prefix' }]);
    const relayed = (response.headers['set-cookie'] as unknown as string[] | undefined) ?? [];
    expect(relayed.filter((cookie) => /;\s*Path=\/(;|$)/i.test(cookie))).toEqual([]);
  });
});
