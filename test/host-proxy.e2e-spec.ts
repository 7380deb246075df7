/**
 * Host, scheme and proxy semantics: each test sends the same requests directly and in a batch
 * and expects them to match. Before the fixes, a same-origin batch behind a proxy that sends its
 * upstream's name as Host was taken for another origin's (browsers without fetch metadata), the
 * jar kept a Secure cookie over plain http, and an HTTP/1.0 batch without Host gave its
 * operations `Host: localhost`.
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
  describe('behind a trusted proxy that sends the upstream name as Host', () => {
    const t = useTestApp({ imports: [ProxyModule], trustProxy: true });

    it('a same-origin batch from a browser without fetch metadata reads its operations as the page reads the requests', async () => {
      // The page at https://www.example.com (Safari < 16.4, Firefox < 90: no Sec-Fetch-Site)
      // fetches its own API: same-origin, no CORS involved, the answer is readable.
      const direct = await t.http.get('/px/me').set(PROXIED).expect(200);
      expect(direct.body).toEqual({ cookie: null, hostname: 'www.example.com' });
      // The same page posts a batch: a POST carries Origin, which is the page's own origin.
      const reply = await t.http
        .post('/batch')
        .set(PROXIED)
        .set('origin', 'https://www.example.com')
        .send({ data: [{ method: 'GET', url: '/px/me' }] })
        .expect(200);
      expect(entries(reply)[0]).toMatchObject({ code: 200, body: direct.body });
    });
  });

  describe('a plain-HTTP site (no TLS anywhere)', () => {
    const t = useTestApp({ imports: [ProxyModule] });
    const host = 'shop.example.com';

    it('an operation after a login that set a Secure cookie over http sends what the browser would: nothing', async () => {
      // Directly: the browser at http://shop.example.com refuses a Secure cookie from an
      // insecure origin (Chrome 89+, Firefox 75+; tough-cookie's enforceSecureOriginOnStorage).
      const browser = new CookieJar();
      const login = await t.http.post('/px/login').set('host', host).expect(200);
      for (const value of login.headers['set-cookie'] as unknown as string[]) {
        await browser.setCookie(value, `http://${host}/px/login`, { ignoreError: true });
      }
      const cookie = await browser.getCookieString(`http://${host}/px/me`);
      const me = t.http.get('/px/me').set('host', host);
      const direct = await (cookie ? me.set('cookie', cookie) : me).expect(200);
      expect(direct.body).toEqual({ cookie: null, hostname: host });

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
