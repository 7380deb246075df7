import request from 'supertest';
import { startChildApp } from './utils/child-app.js';
import { forEachPlatform, type Platform } from './utils/platforms.js';

interface ThrottledApp {
  http: ReturnType<typeof request>;
  handled(): Promise<number>;
  stop(): Promise<void>;
}

/** Boots test/fixtures/throttled-app.mjs (see there why it is a process of its own). */
async function startThrottledApp(
  platform: Platform,
  env: Record<string, string>,
): Promise<ThrottledApp> {
  const child = await startChildApp('throttled-app.mjs', platform, env);
  const http = request(child.base);
  return {
    http,
    handled: async () => ((await http.get('/handled')).body as { handled: number }).handled,
    stop: () => child.stop(),
  };
}

const echoes = (count: number): object[] =>
  Array.from({ length: count }, () => ({ method: 'GET', url: '/echo' }));

function codesOf(body: unknown): number[] {
  return (body as { data: { code: number }[] }).data.map((entry) => entry.code);
}

forEachPlatform((platform) => {
  describe('@nestjs/throttler counts every operation as a request', () => {
    let app: ThrottledApp | undefined;
    afterEach(() => app?.stop());

    it('spends one unit per operation; the excess get 429 in their entries and never run', async () => {
      app = await startThrottledApp(platform, { THROTTLE_LIMIT: '5', SKIP_BATCH_ENDPOINT: '1' });
      const response = await app.http
        .post('/batch')
        .send({ data: echoes(8) })
        .expect(200);
      const codes = codesOf(response.body);
      expect(codes.filter((code) => code === 200)).toHaveLength(5);
      expect(codes.filter((code) => code === 429)).toHaveLength(3);
      expect(await app.handled()).toBe(5);
      // The same client's budget: a request of its own is now refused too.
      await app.http.get('/echo').expect(429);
      expect(await app.handled()).toBe(5);
    });

    it('behind a trusted proxy, operations cannot claim other addresses: the batch request is the client', async () => {
      app = await startThrottledApp(platform, {
        THROTTLE_LIMIT: '5',
        SKIP_BATCH_ENDPOINT: '1',
        TRUST_PROXY: '1',
      });
      const client = { 'x-forwarded-for': '203.0.113.9' };
      const forged = Array.from({ length: 20 }, (_, i) => ({
        method: 'GET',
        url: '/echo',
        headers: { 'x-forwarded-for': `198.51.100.${i + 1}` },
      }));
      const refused = await app.http.post('/batch').set(client).send({ data: forged });
      expect(await app.handled()).toBe(0);
      expect(refused.status).toBe(400);
      expect(JSON.stringify(refused.body)).toContain('x-forwarded-for');

      const response = await app.http
        .post('/batch')
        .set(client)
        .send({ data: echoes(8) })
        .expect(200);
      const codes = codesOf(response.body);
      expect(codes.filter((code) => code === 200)).toHaveLength(5);
      expect(codes.filter((code) => code === 429)).toHaveLength(3);
      // Counted against the batch request's address: that client is out of budget on its own,
      // another client behind the same proxy is not.
      await app.http.get('/echo').set(client).expect(429);
      await app.http.get('/echo').set('x-forwarded-for', '203.0.113.10').expect(200);
      expect(await app.handled()).toBe(6);
    });

    it('counts the batch request on its own route: the fourth batch is refused whole', async () => {
      app = await startThrottledApp(platform, { THROTTLE_LIMIT: '3' });
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        statuses.push((await app.http.post('/batch').send({ data: echoes(1) })).status);
      }
      expect(statuses).toEqual([200, 200, 200, 429]);
      expect(await app.handled()).toBe(3);
    });

    it('with skipIf: isBatchEndpoint, only the operations are counted', async () => {
      app = await startThrottledApp(platform, { THROTTLE_LIMIT: '3', SKIP_BATCH_ENDPOINT: '1' });
      const codes: number[] = [];
      for (let i = 0; i < 4; i++) {
        const response = await app.http
          .post('/batch')
          .send({ data: echoes(1) })
          .expect(200);
        codes.push(...codesOf(response.body));
      }
      expect(codes).toEqual([200, 200, 200, 429]);
      expect(await app.handled()).toBe(3);
    });
  });
});
