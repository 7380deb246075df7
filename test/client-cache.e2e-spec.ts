import { BatchClient } from 'nestjs-batch/client';
import { CacheableModule } from './fixtures/cacheable.fixtures.js';
import { forEachPlatform } from './utils/platforms.js';
import { endpointOf, useTestApp } from './utils/test-app.js';

forEachPlatform(() => {
  describe("client.fetch's HTTP cache", () => {
    const t = useTestApp({ imports: [CacheableModule] });
    const batchRequests = (): number => t.recorder.count('middleware POST /batch');
    const cached = (): BatchClient => new BatchClient({ endpoint: endpointOf(t), httpCache: true });
    const built = async (response: Promise<Response>): Promise<unknown> =>
      ((await (await response).json()) as { built: unknown }).built;

    it('serves a fresh response again with no round trip', async () => {
      const client = cached();
      const first = await built(client.fetch('/cacheable/fresh'));
      const again = await client.fetch('/cacheable/fresh');
      expect(((await again.json()) as { built: unknown }).built).toBe(first);
      expect(again.headers.get('age')).toMatch(/^\d+$/);
      expect(batchRequests()).toBe(1);
    });

    it('revalidates with If-None-Match; a 304 entry resolves with the kept body', async () => {
      const client = cached();
      const counts = async (): Promise<unknown> =>
        (await fetch(endpointOf(t, '/cacheable/counts'))).json();
      const before = (await counts()) as { notModified: number };
      const first = await client.fetch('/cacheable/validated');
      const firstBody = await first.json();
      const again = await client.fetch('/cacheable/validated');
      expect(again.status).toBe(200);
      expect(await again.json()).toEqual(firstBody);
      expect(((await counts()) as { notModified: number }).notModified).toBe(
        before.notModified + 1,
      );
      expect(batchRequests()).toBe(2);
    });

    it('stores nothing marked no-store, and honours the no-store cache mode', async () => {
      const client = cached();
      const a = await built(client.fetch('/cacheable/unstored'));
      const b = await built(client.fetch('/cacheable/unstored'));
      expect(b).not.toBe(a);
      const fresh = await built(client.fetch('/cacheable/fresh'));
      expect(
        await built(client.fetch('/cacheable/fresh', { cache: 'no-store' } as RequestInit)),
      ).not.toBe(fresh);
      expect(batchRequests()).toBe(4);
    });

    it('keeps one response per value of the headers it varies by', async () => {
      const client = cached();
      const english = await client.fetch('/cacheable/varied', {
        headers: { 'accept-language': 'en' },
      });
      const french = await client.fetch('/cacheable/varied', {
        headers: { 'accept-language': 'fr' },
      });
      const englishAgain = await client.fetch('/cacheable/varied', {
        headers: { 'accept-language': 'en' },
      });
      const [en, fr, en2] = (await Promise.all(
        [english, french, englishAgain].map((r) => r.json()),
      )) as {
        built: number;
        language: string;
      }[];
      expect([en?.language, fr?.language, en2?.language]).toEqual(['en', 'fr', 'en']);
      expect(en2?.built).toBe(en?.built);
      expect(fr?.built).not.toBe(en?.built);
      expect(batchRequests()).toBe(2);
    });

    it('drops what it keeps for a url an unsafe method changed', async () => {
      const client = cached();
      const first = await built(client.fetch('/cacheable/fresh'));
      await client.fetch('/cacheable/fresh', { method: 'POST' });
      expect(await built(client.fetch('/cacheable/fresh'))).not.toBe(first);
    });

    /**
     * A client whose batch requests carry the cookie of whoever is signed in, as a browser adds
     * it to them: the page (and the client in it) never sees it.
     */
    const signedIn = (): { client: BatchClient; as(user: string): void } => {
      let cookie = 'user=alice';
      const client = new BatchClient({
        endpoint: endpointOf(t),
        httpCache: true,
        fetch: (input, init) => {
          const headers = new Headers(init?.headers);
          headers.set('cookie', cookie);
          return fetch(input, { ...init, headers });
        },
      });
      return { client, as: (user) => (cookie = `user=${user}`) };
    };
    const userOf = async (response: Promise<Response>): Promise<unknown> =>
      ((await (await response).json()) as { user: unknown }).user;

    it("never serves one user's response varying by Cookie to the next: it keeps none", async () => {
      const { client, as } = signedIn();
      expect(await userOf(client.fetch('/cacheable/profile'))).toBe('alice');
      // The same user: asked again (the client cannot tell it is the same one).
      expect(await userOf(client.fetch('/cacheable/profile'))).toBe('alice');
      as('bob');
      // Directly, the browser's cache keys the response on the Cookie it sent: bob's differs.
      // Before the fix, alice's profile came back with no request made.
      expect(await userOf(client.fetch('/cacheable/profile'))).toBe('bob');
      expect(batchRequests()).toBe(3);
    });

    it('empties itself on a Clear-Site-Data "cache", as the browser empties its cache', async () => {
      const client = cached();
      const first = await built(client.fetch('/cacheable/fresh'));
      expect(await built(client.fetch('/cacheable/fresh'))).toBe(first);
      expect((await client.fetch('/cacheable/logout', { method: 'POST' })).status).toBe(200);
      // Before the fix, the response kept before the logout was served again.
      expect(await built(client.fetch('/cacheable/fresh'))).not.toBe(first);
      expect(batchRequests()).toBe(3);
    });

    it('is off by default outside a browser, as the global fetch has no cache', async () => {
      const client = new BatchClient({ endpoint: endpointOf(t) });
      const first = await built(client.fetch('/cacheable/fresh'));
      expect(await built(client.fetch('/cacheable/fresh'))).not.toBe(first);
      expect(
        () => new BatchClient({ endpoint: endpointOf(t), httpCache: 'yes' as 'auto' }),
      ).toThrow("BatchClient: httpCache must be true, false or 'auto'");
    });
  });
});
