/**
 * What a page gets from `fetch` and from `client.fetch`, side by side in Chromium: a call the
 * page makes as it leaves, the bytes of a request body, a response's freshness by the server's
 * clock, Subresource Integrity. Each test runs the same steps with both and expects the same.
 */
import type * as Client from 'nestjs-batch/client';
import { browserSessionModule } from './fixtures/browser-session.fixtures.js';
import {
  JSON_AS_WRITTEN,
  ParityModule,
  rawEcho,
  rawSeen,
} from './fixtures/fetch-parity.fixtures.js';
import { describeWithChromium, useClientPages } from './utils/chromium.js';
import { forEachPlatform } from './utils/platforms.js';
import { portOf, useTestApp } from './utils/test-app.js';
import { until } from './utils/wait-for.js';

declare const nb: typeof Client;

describeWithChromium('browser fetch parity')('fetch and client.fetch in Chromium', () => {
  const chrome = useClientPages();
  beforeEach(() => (rawSeen.length = 0));

  forEachPlatform(() => {
    const t = useTestApp({
      imports: [browserSessionModule(() => chrome.script), ParityModule],
      configure: (app) => app.use(rawEcho),
    });
    const open = (): Promise<void> => chrome.open(`http://localhost:${portOf(t)}/page`);
    /**
     * Runs `steps` (the source of an async function of a fetch and a tag for its urls) with the
     * page's fetch, then with a fresh client's: what each gave, or how it rejected.
     */
    const both = (steps: string): Promise<{ direct: unknown; batched: unknown }> =>
      chrome.page.evaluate(async (source) => {
        const run = (0, eval)(source) as (f: typeof fetch, tag: string) => Promise<unknown>;
        const settle = (f: typeof fetch, tag: string): Promise<unknown> =>
          run(f, tag).catch((error: unknown) => `rejected ${(error as Error).name}`);
        const direct = await settle(fetch, 'direct');
        const client = new nb.BatchClient({ endpoint: '/batch' });
        return { direct, batched: await settle(client.fetch, 'batched') };
      }, steps);

    it('delivers a keepalive call the page makes as it leaves', async () => {
      await open();
      for (const tag of ['direct', 'batched']) {
        await chrome.page.evaluate((tag) => {
          const client = new nb.BatchClient({ endpoint: '/batch' });
          const send = tag === 'batched' ? client.fetch : fetch;
          // The page's window (the suite compiles without the DOM's types).
          const window = globalThis as unknown as {
            addEventListener(type: string, listener: () => void): void;
            location: { href: string };
          };
          window.addEventListener('pagehide', () => {
            void send(`/raw/bye?${tag}`, { method: 'POST', body: 'bye', keepalive: true });
          });
          window.location.href = '/page?next';
        }, tag);
        await chrome.page.waitForNavigation().catch(() => undefined);
        await chrome.page.waitForFunction(() => typeof nb === 'object');
      }
      // Before the fix, the batched call waited in the batching window, and the page was gone.
      await until(() => rawSeen.length === 2, 'both calls arrived');
      expect(rawSeen.map((seen) => seen.url).sort()).toEqual([
        '/raw/bye?batched',
        '/raw/bye?direct',
      ]);
    });

    it('sends a JSON body as the page wrote it: big numbers, duplicate keys, spacing', async () => {
      await open();
      const { direct, batched } = await both(`async (f, tag) => {
        const response = await f('/raw/json?' + tag, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"id":12345678901234567890, "a":1, "a":2.50}',
        });
        return (await response.json()).hex;
      }`);
      expect(Buffer.from(direct as string, 'hex').toString()).toBe(
        '{"id":12345678901234567890, "a":1, "a":2.50}',
      );
      // Before the fix: {"id":12345678901234567000,"a":2.5}, parsed and written again.
      expect(batched).toBe(direct);
    });

    it('sends the bytes of a text body that is not UTF-8', async () => {
      await open();
      const { direct, batched } = await both(`async (f, tag) => {
        const response = await f('/raw/latin1?' + tag, {
          method: 'POST',
          headers: { 'content-type': 'text/plain; charset=iso-8859-1' },
          body: new Uint8Array([0x63, 0x61, 0x66, 0xe9]),
        });
        return (await response.json()).hex;
      }`);
      expect(direct).toBe('636166e9');
      // Before the fix: 636166efbfbd, the é read as UTF-8 and replaced.
      expect(batched).toBe(direct);
    });

    it("keeps a response fresh for its Expires less the server's Date, whatever the page's clock", async () => {
      // The page's clock an hour behind the server's (the browser's cache keeps its own time).
      await chrome.page.evaluateOnNewDocument(() => {
        const now = Date.now.bind(Date);
        Date.now = () => now() - 3_600_000;
      });
      await open();
      const { direct, batched } = await both(`async (f, tag) => {
        const first = (await (await f('/parity/expiring?' + tag)).json()).served;
        await new Promise((resolve) => setTimeout(resolve, 3000));
        const second = (await (await f('/parity/expiring?' + tag)).json()).served;
        return second === first ? 'served from the cache' : 'fetched again';
      }`);
      expect(direct).toBe('fetched again');
      // Before the fix, fresh for an hour and 2 s: the server's Expires against the page's clock.
      expect(batched).toBe(direct);
    });

    it("gives a JSON response's text as the app wrote it, from a whole reply and a streamed one", async () => {
      await open();
      const read = await chrome.page.evaluate(async () => {
        const text = async (f: typeof fetch): Promise<string> =>
          (await f('/parity/json-as-written')).text();
        const whole = new nb.BatchClient({ endpoint: '/batch', stream: false });
        const streamed = new nb.BatchClient({ endpoint: '/batch', stream: true });
        return {
          direct: await text(fetch),
          whole: await text(whole.fetch),
          streamed: await text(streamed.fetch),
        };
      });
      expect(read.direct).toBe(JSON_AS_WRITTEN);
      // Before the fix, parsed and written again: {"id":12345678901234567000,"x":1.5,"d":2}.
      expect(read).toEqual({
        direct: JSON_AS_WRITTEN,
        whole: JSON_AS_WRITTEN,
        streamed: JSON_AS_WRITTEN,
      });
    });

    it('sends the Referer fetch sends: the page by default, none under no-referrer', async () => {
      await open();
      const { direct, batched } = await both(`async (f, tag) => {
        const referer = async (init) => (await (await f('/raw/referer?' + tag, init)).json()).referer;
        return { page: await referer({}), none: await referer({ referrerPolicy: 'no-referrer' }) };
      }`);
      expect(direct).toEqual({ page: `http://localhost:${portOf(t)}/page`, none: null });
      // Before the fix, no operation had a Referer, the page's nor the one a call asked for.
      expect(batched).toEqual(direct);
    });

    it("sends the headers fetch sends: Accept, the browser's client hints and privacy signals", async () => {
      // As a browser set to send Do Not Track and Global Privacy Control sends them.
      await chrome.page.setExtraHTTPHeaders({ dnt: '1', 'sec-gpc': '1' });
      await open();
      const { direct, batched } = await both(`async (f, tag) => {
        const seen = async (init) => (await (await f('/raw/headers?' + tag, init)).json()).headers;
        const post = { method: 'POST', body: '{"a":1}', headers: { 'content-type': 'application/json' } };
        return { get: await seen({}), post: await seen(post) };
      }`);
      // Not compared: the connection's own (hop by hop), the coding the batch reply is
      // compressed in as a whole, and the Origin every operation carries (a same-origin GET
      // sent directly has none): docs/client.md says so.
      const comparable = (headers: unknown): Record<string, string> =>
        Object.fromEntries(
          Object.entries(headers as Record<string, string>).filter(
            ([name]) => !['connection', 'accept-encoding', 'origin'].includes(name),
          ),
        );
      const { get, post } = direct as Record<'get' | 'post', unknown>;
      expect(comparable(get)).toMatchObject({ accept: '*/*', dnt: '1', 'sec-gpc': '1' });
      expect(Object.keys(comparable(get))).toContain('sec-ch-ua-mobile');
      const seenBatched = batched as Record<'get' | 'post', unknown>;
      // Before the fix, operations had no Accept, client hints, DNT or Sec-GPC.
      expect(comparable(seenBatched.get)).toEqual(comparable(get));
      expect(comparable(seenBatched.post)).toEqual(comparable(post));
    });

    it('rejects a call whose integrity does not match, as fetch does', async () => {
      await open();
      const { direct, batched } = await both(`async (f) => {
        const response = await f('/parity/status/200', {
          integrity: 'sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
        });
        return response.status;
      }`);
      expect(direct).toBe('rejected TypeError');
      // Before the fix: 200, the digest never checked.
      expect(batched).toBe(direct);
    });
  });
});
