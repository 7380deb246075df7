/**
 * Host, scheme and proxy semantics: each test sends the same requests directly and in a batch
 * and expects them to match. The batch's jar takes every operation as https to the host the app
 * reads; the same-origin check never reads a forwarded host (a page allowed custom headers would
 * name its own origin there). Before its fix, an HTTP/1.0 batch without Host gave its operations
 * `Host: localhost`.
 */
import { Controller, Get, Header, HttpCode, Module, Post, Req } from '@nestjs/common';
import { connect, type AddressInfo } from 'node:net';
import { CookieJar } from 'tough-cookie';
import { forEachPlatform } from './utils/platforms.js';
import { entries, useTestApp, type TestApp } from './utils/test-app.js';

interface AnyRequest {
  headers: Record<string, string | undefined>;
  hostname?: string;
  host?: string;
}

@Controller('px')
class ProxyController {
  /** What a same-origin SPA reads: no CORS configured, as a same-origin app has none. */
  @Get('me')
  me(@Req() req: AnyRequest): object {
    return { cookie: req.headers.cookie ?? null, hostname: req.hostname ?? null };
  }

  /** A login that marks its session cookie Secure, whatever the scheme. */
  @Post('login')
  @HttpCode(200)
  @Header('Set-Cookie', 'sid=alice; Path=/; HttpOnly; Secure; SameSite=Lax')
  login(): object {
    return { ok: true };
  }

  @Get('where')
  where(@Req() req: AnyRequest): object {
    return { host: req.headers.host ?? null, hostname: req.hostname || null };
  }
}
@Module({ controllers: [ProxyController] })
class ProxyModule {}

/** Raw HTTP/1 exchange on a fresh connection: status and body. */
function raw(t: TestApp, text: string): Promise<{ status: number; body: string }> {
  const { port } = t.app.getHttpServer().address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const all = Buffer.concat(chunks).toString('utf8');
      const at = all.indexOf('\r\n\r\n');
      const head = all.slice(0, at);
      let body = all.slice(at + 4);
      if (/transfer-encoding: chunked/i.test(head)) {
        let out = '';
        let rest = body;
        for (;;) {
          const i = rest.indexOf('\r\n');
          const n = parseInt(rest.slice(0, i), 16);
          if (!n) break;
          out += rest.slice(i + 2, i + 2 + n);
          rest = rest.slice(i + 4 + n);
        }
        body = out;
      }
      resolve({ status: Number(head.split(' ')[1]), body });
    });
    socket.end(text);
  });
}

/** nginx's default proxy_pass: Host is the upstream's name, the public host is forwarded. */
const PROXIED = {
  host: 'app-upstream:3000',
  'x-forwarded-host': 'www.example.com',
  'x-forwarded-proto': 'https',
  'x-forwarded-for': '203.0.113.7',
};

forEachPlatform(() => {
  describe('behind a trusted proxy', () => {
    const t = useTestApp({ imports: [ProxyModule], trustProxy: true });

    it("a page's own X-Forwarded-Host does not make its cross-origin batch the app's own", async () => {
      // A browser without fetch metadata (Safari < 16.4), a page of another origin allowed to
      // send custom headers to the batch: it names its own origin as the forwarded host. The
      // operation's answer carries no CORS grant, so the page may not read it, as directly.
      const reply = await t.http
        .post('/batch')
        .set({
          ...PROXIED,
          origin: 'https://partner.example',
          'x-forwarded-host': 'partner.example',
        })
        .send({ data: [{ method: 'GET', url: '/px/me' }] })
        .expect(200);
      expect(entries(reply)[0]).toMatchObject({ code: 403, body: { reason: 'cors' } });
    });
  });

  describe('behind a TLS proxy the app does not trust (its default)', () => {
    const t = useTestApp({ imports: [ProxyModule] });
    const host = 'shop.example.com';

    it('an operation after a login that set a Secure cookie sends it, as the browser on https does', async () => {
      // The app reads http; the browser is on https and keeps the cookie (so does the jar: it
      // cannot tell this from a plain-http site, where a browser would refuse it).
      const browser = new CookieJar();
      const login = await t.http.post('/px/login').set('host', host).expect(200);
      for (const value of login.headers['set-cookie'] as unknown as string[]) {
        await browser.setCookie(value, `https://${host}/px/login`);
      }
      const cookie = await browser.getCookieString(`https://${host}/px/me`);
      const direct = await t.http.get('/px/me').set('host', host).set('cookie', cookie).expect(200);
      expect(direct.body).toEqual({ cookie: 'sid=alice', hostname: host });

      const reply = await t.http
        .post('/batch')
        .set('host', host)
        .send({
          data: [
            { method: 'POST', url: '/px/login', name: 'login' },
            { method: 'GET', url: '/px/me', dependsOn: ['login'] },
          ],
        })
        .expect(200);
      expect(entries(reply)[1]).toMatchObject({ code: 200, body: direct.body });
    });
  });

  describe('an HTTP/1.0 request without a Host header', () => {
    const t = useTestApp({ imports: [ProxyModule] });

    it('an operation sees no host, as the request sent directly', async () => {
      const direct = await raw(t, 'GET /px/where HTTP/1.0\r\n\r\n');
      expect(direct.status).toBe(200);
      expect(JSON.parse(direct.body)).toEqual({ host: null, hostname: null });
      const payload = JSON.stringify({ data: [{ method: 'GET', url: '/px/where' }] });
      const batch = await raw(
        t,
        `POST /batch HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(payload)}\r\n\r\n${payload}`,
      );
      expect(batch.status).toBe(200);
      const [entry] = (JSON.parse(batch.body) as { data: { code: number; body: unknown }[] }).data;
      expect(entry).toMatchObject({ code: 200, body: JSON.parse(direct.body) });
    });
  });
});
