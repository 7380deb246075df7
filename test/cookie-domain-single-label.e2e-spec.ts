/**
 * A cookie whose Domain is the host itself, on a single-label host (an intranet
 * name, a docker-compose or Kubernetes service name): RFC 6265 §5.3 step 5 makes it a host-only
 * cookie, and Chromium keeps and sends it. The batch's jar (tough-cookie) refused it as set
 * for a public suffix, so the operation after a login went without it (fixed).
 */
import { Controller, Get, Header, HttpCode, Module, Post, Req } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import puppeteer from 'puppeteer-core';
import { chromiumPath, describeWithChromium } from './utils/chromium.js';
import { forEachPlatform } from './utils/platforms.js';
import { entries, useTestApp } from './utils/test-app.js';

@Controller('sl')
class SingleLabelController {
  /** Sets the session for the host the request names, as `cookie.domain = req.hostname` does. */
  @Post('login')
  @HttpCode(200)
  @Header('Set-Cookie', 'sid=alice; Domain=intranet; Path=/; HttpOnly; SameSite=Lax')
  login(): object {
    return { ok: true };
  }

  @Get('me')
  me(@Req() req: { headers: Record<string, string | undefined> }): object {
    return { cookie: req.headers.cookie ?? null };
  }
}
@Module({ controllers: [SingleLabelController] })
class SingleLabelModule {}

describeWithChromium('a Domain cookie on a single-label host')(
  'a Domain cookie on a single-label host',
  () => {
    forEachPlatform(() => {
      const t = useTestApp({ imports: [SingleLabelModule] });

      it('an operation after a login that set Domain=<its own single-label host> sends it, as Chromium does', async () => {
        const { port } = t.app.getHttpServer().address() as AddressInfo;
        // Directly, in Chromium at http://intranet:<port>: the login, then the page's next request.
        const browser = await puppeteer.launch({
          executablePath: chromiumPath(),
          headless: true,
          args: ['--no-sandbox', '--disable-gpu', '--host-resolver-rules=MAP intranet 127.0.0.1'],
        });
        let direct: unknown;
        try {
          const page = await browser.newPage();
          await page.goto(`http://intranet:${port}/sl/me`);
          direct = await page.evaluate(async () => {
            await fetch('/sl/login', { method: 'POST' });
            return (await fetch('/sl/me')).json();
          });
        } finally {
          await browser.close();
        }
        expect(direct).toEqual({ cookie: 'sid=alice' });

        // The same two requests in one batch, to the same host.
        const reply = await t.http
          .post('/batch')
          .set('host', `intranet:${port}`)
          .send({
            data: [
              { method: 'POST', url: '/sl/login', name: 'login' },
              { method: 'GET', url: '/sl/me', dependsOn: ['login'] },
            ],
          })
          .expect(200);
        expect(entries(reply)[1]).toMatchObject({ code: 200, body: direct });
      });
    });
  },
);
