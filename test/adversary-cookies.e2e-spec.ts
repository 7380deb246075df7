/**
 * Adversary probes (issues 27/28 follow-up): the batch request's own cookies, as operations
 * after one that sets a cookie receive them from the batch's jar.
 */
import { Controller, Get, Module, Req, Res } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { forEachPlatform } from './utils/platforms.js';
import { entries, postBatch, useTestApp } from './utils/test-app.js';

function rawOf(reply: object): ServerResponse {
  return ('raw' in reply ? reply.raw : reply) as ServerResponse;
}
function rawRequestOf(request: object): IncomingMessage {
  return ('raw' in request ? request.raw : request) as IncomingMessage;
}

@Controller('adv-cookies')
class AdversaryCookiesController {
  @Get('set')
  set(@Res() reply: object): void {
    const res = rawOf(reply);
    res.setHeader('set-cookie', 'pref=1; Path=/');
    res.end('ok');
  }

  @Get('set2')
  set2(@Res() reply: object): void {
    const res = rawOf(reply);
    res.setHeader('set-cookie2', 'legacy=SECRET; Version=1');
    res.end('ok');
  }

  /** A rolling session (express-session `rolling: true`, a JWT refreshed on each response). */
  @Get('rolling')
  rolling(@Res() reply: object): void {
    const res = rawOf(reply);
    res.setHeader('set-cookie', `session=${'s'.repeat(1500)}; Path=/; HttpOnly; Secure`);
    res.end('ok');
  }

  @Get('echo')
  echo(@Req() request: object): { cookie: string | undefined } {
    return { cookie: rawRequestOf(request).headers.cookie };
  }
}

/** A __Host- cookie without the Path=/ its prefix requires: a browser refuses it. */
@Controller()
class HostPrefixController {
  @Get('adv-host-prefix')
  hostPrefix(@Res() reply: object): void {
    const res = rawOf(reply);
    res.setHeader('set-cookie', '__Host-sid=attacker; Secure; HttpOnly');
    res.end('ok');
  }
}

@Module({ controllers: [AdversaryCookiesController, HostPrefixController] })
class AdversaryCookiesModule {}

forEachPlatform(() => {
  const t = useTestApp({ imports: [AdversaryCookiesModule] });

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

  // Directly: each response carries one 1.5 KB Set-Cookie, which any client reads. Batched, the
  // reply repeats the same cookie once per operation (30 KB of headers): Node's clients (http,
  // fetch; 16 KiB --max-http-header-size) fail to parse the reply (HPE_HEADER_OVERFLOW), as does
  // nginx in front with its default 4-8 KB proxy buffers.
  it('a cookie set again by each of 20 operations leaves a reply a client can read', async () => {
    const data = Array.from({ length: 20 }, () => ({ method: 'GET', url: '/adv-cookies/rolling' }));
    const response = await postBatch(t, data).expect(200);
    expect(response.headers['set-cookie']).toHaveLength(1);
  });

  // Directly: `__Host-sid=attacker; Secure; HttpOnly` has no Path attribute, so a browser refuses
  // it (RFC 6265bis 4.1.3.2: __Host- needs `Path=/` written). The reply adds `Path=/` (the url's
  // default path), and the browser stores a __Host- cookie the app's response could not set.
  it('a __Host- cookie set without Path is not made valid by the relayed default path', async () => {
    const response = await postBatch(t, [{ method: 'GET', url: '/adv-host-prefix' }]);
    const relayed = (response.headers['set-cookie'] as unknown as string[] | undefined) ?? [];
    expect(relayed.filter((cookie) => /;\s*Path=\/(;|$)/i.test(cookie))).toEqual([]);
  });
});
