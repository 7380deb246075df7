import { VersioningType } from '@nestjs/common';
import { RouterModule } from '@nestjs/core';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BatchModule } from 'nestjs-batch';
import { ShopModule, ThingsController } from './fixtures/versioned.controllers.js';
import { forEachPlatform } from './utils/platforms.js';
import { createTestApp, entries, type TestApp, withTestApp } from './utils/test-app.js';

/** Sends a chunked body, so only a reader that counts bytes as they come can refuse it early. */
async function postChunked(t: TestApp, path: string, body: string): Promise<number | undefined> {
  const { port } = t.app.getHttpServer().address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      },
      (response) => resolve(response.resume().statusCode),
    );
    req.on('error', reject);
    req.end(body);
  });
}

const oversized = JSON.stringify({
  data: [{ method: 'POST', url: '/echo', body: 'x'.repeat(4096) }],
});

forEachPlatform(() => {
  describe('a global prefix and URI versioning', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({
        batch: { maxBodyBytes: 1024 },
        imports: [
          ShopModule,
          RouterModule.register([{ path: 'shop', module: ShopModule }]),
          { module: class ThingsModule {}, controllers: [ThingsController] },
        ],
        configure: (app) => {
          app.setGlobalPrefix('api');
          app.enableVersioning({ type: VersioningType.URI, defaultVersion: '1' });
        },
      });
    });
    afterAll(() => t.close());

    it('serves the batch under the prefix, never under a version', async () => {
      const data = [{ method: 'GET', url: '/api/echo' }];
      await t.http.post('/api/batch').send({ data }).expect(200);
      await t.http.post('/api/v1/batch').send({ data }).expect(404);
    });

    it('routes each operation by its full url: prefix, version, RouterModule path, params', async () => {
      const response = await t.http
        .post('/api/batch')
        .send({
          data: [
            { method: 'GET', url: '/api/v1/things/7' },
            { method: 'GET', url: '/api/v2/things/7' },
            { method: 'GET', url: '/api/v2/things/7/parts/wheel%20nut' },
            { method: 'GET', url: '/api/v1/shop/orders/A-1' },
            { method: 'GET', url: '/api/v3/things/7' },
            { method: 'GET', url: '/things/7' },
          ],
        })
        .expect(200);
      const [v1, v2, part, order, v3, bare] = entries(response);
      expect(v1?.body).toEqual({ version: 1, id: 7 });
      expect(v2?.body).toEqual({ version: 2, id: 7 });
      expect(part?.body).toEqual({ version: 2, id: 7, part: 'wheel nut' });
      expect(order?.body).toEqual({ order: 'A-1' });
      expect([v3?.code, bare?.code]).toEqual([404, 404]);
    });

    it('passes the params and pipes of a versioned route: a bad param is its 400', async () => {
      const response = await t.http
        .post('/api/batch')
        .send({ data: [{ method: 'GET', url: '/api/v2/things/seven' }] })
        .expect(200);
      expect(entries(response)[0]?.code).toBe(400);
    });

    it('reads the body of the prefixed batch endpoint itself: a chunked body over maxBodyBytes is a 413', async () => {
      expect(await postChunked(t, '/api/batch', oversized)).toBe(413);
      expect(t.recorder.count('echo')).toBe(0);
    });
  });

  describe('header versioning', () => {
    // The v1 handler has no version of its own: with defaultVersion it is version 1.
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({
        imports: [{ module: class ThingsModule {}, controllers: [ThingsController] }],
        configure: (app) => {
          app.enableVersioning({
            type: VersioningType.HEADER,
            header: 'x-api-version',
            defaultVersion: '1',
          });
        },
      });
    });
    afterAll(() => t.close());

    it("picks each operation's version from its own headers, or from the batch request's", async () => {
      const response = await t.http
        .post('/batch')
        .set('x-api-version', '2')
        .send({
          data: [
            { method: 'GET', url: '/things/1' },
            { method: 'GET', url: '/things/1', headers: { 'x-api-version': '2' } },
            { method: 'GET', url: '/things/1', headers: { 'x-api-version': '1' } },
          ],
        })
        .expect(200);
      // x-api-version is not inherited by default: without one, only version-neutral routes
      // match, exactly as for a direct request without the header.
      const direct = await t.http.get('/things/1');
      expect(entries(response).map((entry) => entry?.code)).toEqual([direct.status, 200, 200]);
      expect(direct.status).toBe(404);
      expect(entries(response).map((entry) => entry?.body.version)).toEqual([undefined, 2, 1]);
    });

    it('inherits the version header when inheritHeaders says so: the same handler as a direct request', async () => {
      const inheriting = await createTestApp({
        batch: { inheritHeaders: ['x-api-version'] },
        imports: [{ module: class ThingsModule {}, controllers: [ThingsController] }],
        configure: (app) => {
          app.enableVersioning({ type: VersioningType.HEADER, header: 'x-api-version' });
        },
      });
      try {
        const response = await inheriting.http
          .post('/batch')
          .set('x-api-version', '2')
          .send({ data: [{ method: 'GET', url: '/things/1' }] })
          .expect(200);
        // Without defaultVersion the unversioned handler competes with v2; which one wins
        // differs between Express (first registered) and Fastify (constraints first), so the
        // operation must match what a direct request gets, on each adapter.
        const direct = await inheriting.http.get('/things/1').set('x-api-version', '2');
        expect(entries(response)[0]?.body).toEqual(direct.body);
        expect((direct.body as { version: number }).version).toBeGreaterThan(0);
      } finally {
        await inheriting.close();
      }
    });
  });

  describe('the batch endpoint under a RouterModule path and a prefix', () => {
    it('serves /api/<module path>/batch and enforces maxBodyBytes there', async () => {
      await withTestApp(
        {
          module: BatchModule.forRoot({ maxBodyBytes: 1024 }),
          imports: [RouterModule.register([{ path: 'ops', module: BatchModule }])],
          configure: (app) => app.setGlobalPrefix('api'),
        },
        async (t) => {
          const response = await t.http
            .post('/api/ops/batch')
            .send({ data: [{ method: 'GET', url: '/api/echo' }] })
            .expect(200);
          expect(entries(response)[0]?.code).toBe(200);
          expect(await postChunked(t, '/api/ops/batch', oversized)).toBe(413);
        },
      );
    });
  });
});
