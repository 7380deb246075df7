/**
 * The batch request's body, seen by the app's middleware, guards and interceptors as the same
 * POST with the app's own parsers would show it: nestjs-cls proxy providers built from
 * `req.body`, in each of its three mounts, compared with a direct JSON POST to the same app.
 */
import request from 'supertest';
import { startChildApp, type ChildApp } from './utils/child-app.js';
import { forEachPlatform } from './utils/platforms.js';

const MOUNTS = ['middleware', 'guard', 'interceptor'] as const;

forEachPlatform((platform) => {
  describe.each(MOUNTS)('nestjs-cls proxy providers from req.body, %s mount', (mount) => {
    let app: ChildApp | undefined;
    beforeAll(async () => {
      // nestjs-cls cannot be loaded by Jest here (see test/fixtures/cls-app.mjs).
      app = await startChildApp('cls-app.mjs', platform, { MOUNT: mount });
    });
    afterAll(() => app?.stop());
    const http = (): ReturnType<typeof request> => request(app?.base ?? '');

    /** What a direct JSON POST with this body shows the providers. */
    const direct = async (body: object): Promise<request.Response> =>
      http().post('/echo').send(body);

    it('a JSON batch: the providers see the batch body wherever a direct POST shows its body', async () => {
      const body = {
        tenant: 'acme',
        data: [{ method: 'POST', url: '/echo', body: { tenant: 'inner' } }],
      };
      const seen = await direct(body);
      // Reset what earlier batches left.
      await http().get('/seen');
      const response = await http().post('/batch').send(body);
      expect(response.status).toBe(seen.status === 201 ? 200 : seen.status);
      if (seen.status !== 201) {
        // Fastify runs middleware before it parses any body: no POST has one there.
        expect([platform.name, mount]).toEqual(['fastify', 'middleware']);
        return;
      }
      expect(seen.body).toEqual({ body, tenant: 'acme' });
      expect((await http().get('/seen')).body).toEqual([body]);
      // Each operation sees its own body.
      const [entry] = (response.body as { data: { code: number; body: unknown }[] }).data;
      expect(entry).toMatchObject({
        code: 201,
        body: { body: { tenant: 'inner' }, tenant: 'inner' },
      });
    });

    it('a Facebook form batch: the providers see its fields', async () => {
      const batch = JSON.stringify([{ method: 'GET', relative_url: '/seen' }]);
      const fields = { batch, tenant: 'acme', include_headers: 'false' };
      await http().get('/seen');
      const response = await http()
        .post('/batch')
        .type('form')
        .send(new URLSearchParams(fields).toString());
      const seen = await http().post('/echo').type('form').send('tenant=acme');
      expect(response.status).toBe(seen.status === 201 ? 200 : seen.status);
      if (seen.status !== 201) return;
      expect(seen.body).toEqual({ body: { tenant: 'acme' }, tenant: 'acme' });
      const [entry] = response.body as { code: number; body: string }[];
      // The operation (GET /seen) read what the batch request's providers saw.
      expect(entry?.code).toBe(200);
      expect(JSON.parse(entry?.body ?? 'null')).toEqual([fields]);
    });
  });
});
