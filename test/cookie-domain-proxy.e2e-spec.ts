import { Controller, Get, Header, HttpCode, Module, Post, Req } from '@nestjs/common';
import { CookieJar } from 'tough-cookie';
import { forEachPlatform } from './utils/platforms.js';
import { useTestApp } from './utils/test-app.js';

/**
 * A session cookie shared by the site's subdomains (`Domain=example.com`, as apps set
 * `cookie.domain` for single sign-on), behind a reverse proxy that passes the public host in
 * `X-Forwarded-Host` and its upstream's name in `Host` (nginx's default `proxy_pass` Host is the
 * upstream's). The browser at www.example.com stores the cookie and sends it with the next
 * request; inside a batch the next operation should get it too.
 */
@Controller('dom')
class DomainCookieController {
  @Post('login')
  @HttpCode(200)
  @Header('Set-Cookie', 'sid=alice; Domain=example.com; Path=/; HttpOnly; Secure; SameSite=Lax')
  login(): { ok: true } {
    return { ok: true };
  }

  @Get('me')
  me(
    @Req() req: { headers: Record<string, string | undefined>; hostname?: string; host?: string },
  ): {
    cookie: string | null;
  } {
    return { cookie: req.headers.cookie ?? null };
  }
}
@Module({ controllers: [DomainCookieController] })
class DomainCookieModule {}

const proxied = {
  host: 'app-upstream:3000',
  'x-forwarded-host': 'www.example.com',
  'x-forwarded-proto': 'https',
  'x-forwarded-for': '203.0.113.7',
};

forEachPlatform(() => {
  const t = useTestApp({ imports: [DomainCookieModule], trustProxy: true });

  it('an operation after a login that set a Domain cookie sends it, as the browser sends it on the next request', async () => {
    // Directly: the browser (a tough-cookie jar at the public origin) stores and sends it.
    const browser = new CookieJar();
    const login = await t.http.post('/dom/login').set(proxied).expect(200);
    for (const value of login.headers['set-cookie'] as unknown as string[]) {
      await browser.setCookie(value, 'https://www.example.com/dom/login');
    }
    const cookie = await browser.getCookieString('https://www.example.com/dom/me');
    const direct = await t.http.get('/dom/me').set(proxied).set('cookie', cookie).expect(200);
    expect(direct.body).toEqual({ cookie: 'sid=alice' });

    // The same two requests in one batch, through the same proxy.
    const reply = await t.http
      .post('/batch')
      .set(proxied)
      .send({
        data: [
          { method: 'POST', url: '/dom/login', name: 'login' },
          { method: 'GET', url: '/dom/me', dependsOn: ['login'] },
        ],
      })
      .expect(200);
    const data = (reply.body as { data: { code: number; body: unknown }[] }).data;
    // The reply relays the cookie: the browser stores it, as from the login itself.
    expect(reply.headers['set-cookie']).toEqual(login.headers['set-cookie']);
    expect(data[1]?.body).toEqual(direct.body);
  });

  describe('in an atomic group (its members share a copy of the jar)', () => {
    const grouped = useTestApp({
      imports: [DomainCookieModule],
      trustProxy: true,
      batch: { transaction: (work: () => Promise<void>) => work() },
    });

    it('the member after the login sends the cookie too', async () => {
      const reply = await grouped.http
        .post('/batch')
        .set(proxied)
        .send({
          data: [
            { method: 'POST', url: '/dom/login', name: 'login', atomicityGroup: 'g' },
            { method: 'GET', url: '/dom/me', dependsOn: ['login'], atomicityGroup: 'g' },
          ],
        })
        .expect(200);
      const data = (reply.body as { data: { code: number; body: unknown }[] }).data;
      // Before the fix, the group's copy of the jar took the site from the Host header.
      expect(data[1]?.body).toEqual({ cookie: 'sid=alice' });
    });
  });
});
