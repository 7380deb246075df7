/**
 * `client.fetch`'s HTTP cache against Chromium's own, on the same page: a private profile, fresh
 * for five minutes, read before and after the signed-in user changes. Directly, Chromium's cache
 * never answers with the first user's profile: it keys a `Vary: Cookie` response on the cookies
 * it sends, and empties itself on a logout's `Clear-Site-Data: "cache"`. Neither can the client's.
 */
import { Controller, Get, Module, Param, Req, Res } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type * as Client from 'nestjs-batch/client';
import { browserSessionModule } from './fixtures/browser-session.fixtures.js';
import { describeWithChromium, useClientPages } from './utils/chromium.js';
import { nodeRequestOf, takeOverResponse } from './utils/node-response.js';
import { forEachPlatform } from './utils/platforms.js';
import { portOf, useTestApp } from './utils/test-app.js';

declare const nb: typeof Client;

function userOf(request: IncomingMessage): string | null {
  return /(?:^|;\s*)who=([^;]*)/.exec(request.headers.cookie ?? '')?.[1] ?? null;
}

let built = 0;

@Controller('profiles')
class ProfilesController {
  @Get('login/:user')
  login(@Param('user') user: string, @Res() reply: object): void {
    const res = takeOverResponse(reply);
    res.setHeader('set-cookie', `who=${user}; Path=/; HttpOnly; SameSite=Lax`);
    res.setHeader('content-type', 'application/json');
    res.end('{"ok":true}');
  }

  @Get('logout')
  logout(@Res() reply: object): void {
    const res = takeOverResponse(reply);
    res.setHeader('clear-site-data', '"cache", "cookies"');
    res.setHeader('content-type', 'application/json');
    res.end('{"ok":true}');
  }

  /** The signed-in user's profile; `vary` varies by the session cookie, `plain` does not. */
  @Get(':variant')
  profile(@Param('variant') variant: string, @Req() request: object, @Res() reply: object): void {
    const res = takeOverResponse(reply);
    res.setHeader('cache-control', 'private, max-age=300');
    if (variant === 'vary') res.setHeader('vary', 'Cookie');
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ user: userOf(nodeRequestOf(request)), built: ++built }));
  }
}

@Module({ controllers: [ProfilesController] })
class ProfilesModule {}

describeWithChromium('browser cache')("client.fetch's cache beside Chromium's", () => {
  const chrome = useClientPages();

  forEachPlatform(() => {
    const t = useTestApp({
      imports: [browserSessionModule(() => chrome.script), ProfilesModule],
    });
    const open = (): Promise<void> => chrome.open(`http://localhost:${portOf(t)}/page`);

    /** Reads each url in turn, with `fetch` or one client's `client.fetch`: the profiles read. */
    const run = (urls: string[], batched: boolean): Promise<string[]> =>
      chrome.page.evaluate(
        async (urls, batched) => {
          const client = new nb.BatchClient({ endpoint: '/batch' });
          const seen: string[] = [];
          for (const url of urls) {
            const response = await (batched ? client.fetch(url) : fetch(url));
            const text = await response.text();
            if (!url.includes('/log')) seen.push(text);
          }
          return seen;
        },
        urls,
        batched,
      );

    it('gives the second user their own profile, varying by Cookie, after a new login', async () => {
      await open();
      const urls = ['/profiles/login/alice', '/profiles/vary', '/profiles/login/bob'];
      const direct = await run([...urls, '/profiles/vary'], false);
      expect(direct.map((text) => JSON.parse(text).user)).toEqual(['alice', 'bob']);
      // Another url, so that the page's own cache of the direct reads plays no part.
      const batched = await run(
        [...urls, '/profiles/vary'].map((url) => url.replace('/vary', '/vary?batched')),
        true,
      );
      // Before the fix: ['alice', 'alice'], the first user's profile served from the cache.
      expect(batched.map((text) => JSON.parse(text).user)).toEqual(['alice', 'bob']);
    });

    it('empties the cache at a logout whose answer says Clear-Site-Data: "cache"', async () => {
      await open();
      const urls = ['/profiles/login/alice', '/profiles/plain', '/profiles/logout'];
      const direct = await run([...urls, '/profiles/plain'], false);
      expect(direct.map((text) => JSON.parse(text).user)).toEqual(['alice', null]);
      const batched = await run(
        [...urls, '/profiles/plain'].map((url) => url.replace('/plain', '/plain?batched')),
        true,
      );
      // Before the fix: ['alice', 'alice'].
      expect(batched.map((text) => JSON.parse(text).user)).toEqual(['alice', null]);
    });

    it("empties the browser's own cache at a logout sent through client.fetch, as at one sent directly", async () => {
      await open();
      /** Reads a profile with fetch, logs out (directly or batched), reads it again with fetch. */
      const logOut = (url: string, batched: boolean): Promise<string[]> =>
        chrome.page.evaluate(
          async (url, batched) => {
            const client = new nb.BatchClient({ endpoint: '/batch' });
            await fetch('/profiles/login/alice');
            const before = await (await fetch(url)).text();
            await (batched ? client.fetch('/profiles/logout') : fetch('/profiles/logout'));
            return [before, await (await fetch(url)).text()];
          },
          url,
          batched,
        );
      const direct = await logOut('/profiles/plain?direct-logout', false);
      expect(direct.map((text) => JSON.parse(text).user)).toEqual(['alice', null]);
      // Before the fix, the reply said only `Clear-Site-Data: "cookies"`: ['alice', 'alice'].
      const batched = await logOut('/profiles/plain?batched-logout', true);
      expect(batched.map((text) => JSON.parse(text).user)).toEqual(['alice', null]);
    });
  });
});
