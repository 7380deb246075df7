import { createTestApp, entries, postBatch, type TestApp, withTestApp } from './utils/test-app.js';
import { forEachPlatform } from './utils/platforms.js';

forEachPlatform(() => {
  const parent = {
    authorization: 'Bearer good',
    cookie: 'session=abc',
    'accept-language': 'fr',
    'user-agent': 'batch-client/1.0',
    referer: 'https://app.example/orders?page=2',
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    'x-tenant': 'acme',
    'accept-encoding': 'gzip, br',
    'if-none-match': '"abc"',
    range: 'bytes=0-1',
    accept: 'application/json, text/csv',
  };

  describe('headers of the batch request', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp();
    });
    afterAll(() => t.close());

    it('reach every operation when they say who the caller is; the others do not', async () => {
      const [entry] = entries(
        await postBatch(t, [{ method: 'GET', url: '/echo' }], parent).expect(200),
      );
      const seen = entry?.body.headers as Record<string, string>;
      for (const name of [
        'authorization',
        'cookie',
        'accept-language',
        'user-agent',
        // The page a browser sent the batch from: it sends the same on each request itself.
        'referer',
        'traceparent',
      ]) {
        expect([name, seen[name]]).toEqual([name, parent[name as keyof typeof parent]]);
      }
      for (const name of [
        'x-tenant',
        'accept-encoding',
        'if-none-match',
        'range',
        'accept',
        'content-type',
        'content-length',
      ]) {
        expect([name, seen[name]]).toEqual([name, undefined]);
      }
      expect(seen.host).toMatch(/^127\.0\.0\.1:\d+$/);
    });

    it("authorize operations through the app's guards", async () => {
      const response = await postBatch(t, [{ method: 'GET', url: '/secret' }], {
        authorization: 'Bearer good',
      });
      expect(entries(response)[0]?.code).toBe(200);
    });

    it("give way to an operation's own headers, in either header form", async () => {
      const response = await postBatch(
        t,
        [
          { method: 'GET', url: '/secret', headers: { Authorization: 'Bearer bad' } },
          {
            method: 'GET',
            url: '/echo',
            headers: [
              { name: 'Accept-Language', value: 'de' },
              { name: 'x-op', value: '1' },
            ],
          },
        ],
        parent,
      );
      const [denied, echo] = entries(response);
      expect(denied?.code).toBe(403);
      expect(echo?.body.headers).toMatchObject({
        'accept-language': 'de',
        'x-op': '1',
        cookie: 'session=abc',
      });
    });
  });

  describe('the inheritHeaders option', () => {
    it('replaces the list of inherited headers', async () => {
      await withTestApp({ batch: { inheritHeaders: ['X-Tenant'] } }, async (t) => {
        const [entry] = entries(await postBatch(t, [{ method: 'GET', url: '/echo' }], parent));
        expect(entry?.body.headers['x-tenant']).toBe('acme');
        expect(entry?.body.headers.authorization).toBeUndefined();
      });
    });
  });

  describe('getBatchOperation() without the request', () => {
    it.each([
      [true, { index: 1, name: 'me' }],
      [false, null],
    ])('operationContext %s: %j', async (operationContext, expected) => {
      await withTestApp({ batch: { operationContext } }, async (t) => {
        const response = await postBatch(t, [
          { method: 'GET', url: '/echo' },
          { method: 'GET', url: '/whoami', name: 'me' },
        ]).expect(200);
        expect(entries(response)[1]?.body).toEqual({ operation: expected });
        // A direct request is never an operation.
        expect((await t.http.get('/whoami')).body).toEqual({ operation: null });
      });
    });
  });
});
