import { VersioningType } from '@nestjs/common';
import type { AbstractHttpAdapter } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import express from 'express';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AdminModule } from './fixtures/admin.controllers.js';
import { ThingsController } from './fixtures/versioned.controllers.js';
import { forEachPlatform, type Platform } from './utils/platforms.js';
import { createTestApp, entries, type TestApp } from './utils/test-app.js';

/**
 * Sends one request exactly as spelled: supertest and fetch would parse the url and could
 * normalise what the test is about. Resolves with the status code.
 */
function send(
  t: TestApp,
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<number> {
  const { port } = t.app.getHttpServer().address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers }, (response) =>
      response.resume().on('end', () => resolve(response.statusCode ?? 0)),
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Work the app did beyond receiving the batch request itself, wherever the batch endpoint is. */
function sideEffects(t: TestApp): number {
  const batch = ['/batch', '/api/batch'].map((path) => t.recorder.count(`middleware POST ${path}`));
  return t.recorder.total() - batch.reduce((sum, n) => sum + n, 0);
}

/** Router options that make one route answer many spellings of its path. */
const routerVariants: { name: string; platform: Platform; reaches: string[] }[] = [
  { name: 'express, default router', platform: expressWith({}), reaches: ['/API/Admin/1'] },
  {
    name: "express, 'case sensitive routing' and 'strict routing'",
    platform: expressWith({ 'case sensitive routing': true, 'strict routing': true }),
    reaches: [],
  },
  { name: 'fastify, default router', platform: fastifyWith({}), reaches: ['/api/adm%69n/1'] },
  {
    name: 'fastify, every path-normalising router option',
    platform: fastifyWith({
      // Fastify's types do not list useSemicolonDelimiter under routerOptions; Fastify reads it.
      routerOptions: {
        ignoreDuplicateSlashes: true,
        useSemicolonDelimiter: true,
        ignoreTrailingSlash: true,
        caseSensitive: false,
      } as object,
    }),
    reaches: [
      '/api//admin/1',
      '/api/users/me;x',
      '/api/users/me;jsessionid=1',
      '/api//users/me;x',
      '/API/USERS/ME',
    ],
  },
];

function expressWith(settings: Record<string, boolean>): Platform {
  return {
    name: 'express',
    create: (): AbstractHttpAdapter => {
      // Express makes its router, with these settings, on first use: the adapter uses it at once.
      const app = express();
      for (const [name, value] of Object.entries(settings)) app.set(name, value);
      return new ExpressAdapter(app);
    },
  };
}

function fastifyWith(options: ConstructorParameters<typeof FastifyAdapter>[0]): Platform {
  return { name: 'fastify', create: () => new FastifyAdapter(options) };
}

/** Spellings of `/api/admin/1` and `/api/users/me` that some router reads as those paths. */
const spellings = [
  '/api/admin/1',
  '/api//admin/1',
  '/api/admin//1',
  '/api///admin/1',
  '/api/admin/1/',
  '/api/admin/1//',
  '/API/Admin/1',
  '/api/adm%69n/1',
  '/api/admin/1;x',
  '/api/admin/1;jsessionid=1',
  '/api//admin/1;x/',
  '/api/users/me',
  '/api/users/me;x',
  '/api/users/me;jsessionid=1',
  '/api/users//me',
  '/api//users/me;x',
  '/api/users/me/',
  '/api/users/me/;x',
  '/API/USERS/ME',
  '/api/users/m%65',
  '/api/%75sers/me',
  '/api/users/me%3Bx',
  '/api/users/me?x=1',
];

const handlers = ['admin.read', 'users.me'];

const oversized = JSON.stringify({
  data: [{ method: 'GET', url: '/api/echo', body: 'x'.repeat(4096) }],
});

describe.each(routerVariants)('$name', ({ platform, reaches }) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      platform,
      batch: {
        maxBodyBytes: 1024,
        exclude: [{ path: '/api/admin/:id', method: 'GET' }, '/api/users/me'],
      },
      imports: [AdminModule],
      configure: (app) => app.setGlobalPrefix('api'),
    });
  });
  afterAll(() => t.close());
  beforeEach(() => t.recorder.reset());

  it.each(['GET', 'HEAD'])(
    'refuses with 403 every %s spelling that reaches an excluded handler, before any of the app runs',
    async (method) => {
      const reached: string[] = [];
      const leaked: string[] = [];
      for (const url of spellings) {
        t.recorder.reset();
        await send(t, method, url);
        if (!handlers.some((name) => t.recorder.count(name) > 0)) continue;
        reached.push(url);
        t.recorder.reset();
        const response = await t.http
          .post('/api/batch')
          .send({ data: [{ method, url }] })
          .expect(200);
        const [entry] = entries(response);
        const message = String((entry?.body as { message?: string } | undefined)?.message);
        const refused =
          entry?.code === 403 &&
          // A 403 the app's router sent for a HEAD operation has no body, as any HEAD response.
          (/cannot be run in a batch: .* is excluded/.test(message) ||
            (method === 'HEAD' && entry.body === undefined)) &&
          entry.headers['x-admin-secret'] === undefined &&
          sideEffects(t) === 0;
        if (!refused) leaked.push(`${url} -> ${entry?.code} (${sideEffects(t)} side effects)`);
      }
      expect(leaked).toEqual([]);
      // Proof that the variant normalises: the hostile spellings, where its router reads them so.
      expect(reached).toEqual(
        expect.arrayContaining(['/api/admin/1', '/api/users/me', ...reaches]),
      );
    },
  );

  it('leaves routes and methods the exclusions do not name alone', async () => {
    const response = await t.http
      .post('/api/batch')
      .send({
        data: [
          { method: 'DELETE', url: '/api/admin/1' },
          { method: 'GET', url: '/api/echo' },
        ],
      })
      .expect(200);
    expect(entries(response).map((entry) => entry?.code)).toEqual([200, 200]);
    expect(t.recorder.count('admin.delete')).toBe(1);
  });

  it('applies maxBodyBytes to every spelling of the batch endpoint the router accepts', async () => {
    const answered: Record<string, number> = {};
    for (const path of [
      '/api/batch',
      '/api//batch',
      '/api/batch/',
      '/api/batch//',
      '/API/Batch',
      '/api/batch;x',
      '/api/b%61tch',
      '/api/batch?x=1',
    ]) {
      answered[path] = await send(t, 'POST', path, oversized, {
        'content-type': 'application/json',
        'transfer-encoding': 'chunked',
      });
    }
    // 404: the router has no route for that spelling, so neither has the batch.
    const wrong = Object.entries(answered).filter(([, code]) => code !== 413 && code !== 404);
    expect(wrong).toEqual([]);
    expect(answered['/api/batch']).toBe(413);
    expect(t.recorder.count('echo')).toBe(0);
  });
});

describe('fastify, the path-normalising options as top-level server options', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      platform: fastifyWith({ ignoreDuplicateSlashes: true, useSemicolonDelimiter: true }),
      batch: { maxBodyBytes: 1024, exclude: ['/api/admin/:id', '/api/users/me'] },
      imports: [AdminModule],
      configure: (app) => app.setGlobalPrefix('api'),
    });
  });
  afterAll(() => t.close());

  it.each(['/api//admin/1', '/api/users/me;x', '/api/users/me;jsessionid=1'])(
    'refuses %s, which reaches the excluded handler on its own',
    async (url) => {
      await send(t, 'GET', url);
      expect(t.recorder.total()).toBeGreaterThan(0);
      t.recorder.reset();
      const response = await t.http
        .post('/api/batch')
        .send({ data: [{ method: 'GET', url }] })
        .expect(200);
      expect(entries(response)[0]?.code).toBe(403);
      expect(sideEffects(t)).toBe(0);
    },
  );

  it('answers /api//batch over maxBodyBytes with 413', async () => {
    expect(
      await send(t, 'POST', '/api//batch', oversized, { 'content-type': 'application/json' }),
    ).toBe(413);
  });
});

forEachPlatform(() => {
  describe('HEAD is the GET handler: an exclusion of GET covers it', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({
        batch: { exclude: [{ path: '/admin/:id', method: 'GET' }] },
        imports: [AdminModule],
      });
    });
    afterAll(() => t.close());
    beforeEach(() => t.recorder.reset());

    it('runs the GET handler for a HEAD request of its own', async () => {
      const direct = await t.http.head('/admin/1').expect(200);
      expect(direct.headers['x-admin-secret']).toBe('leaked');
      expect(t.recorder.count('admin.read')).toBe(1);
    });

    it('refuses a HEAD operation with 403: the handler never runs, its headers never come back', async () => {
      const response = await t.http
        .post('/batch')
        .send({ data: [{ method: 'HEAD', url: '/admin/1' }] })
        .expect(200);
      const [entry] = entries(response);
      expect(entry?.code).toBe(403);
      expect(entry?.headers['x-admin-secret']).toBeUndefined();
      expect(t.recorder.count('admin.read')).toBe(0);
      expect(sideEffects(t)).toBe(0);
    });
  });

  describe('URI versioning: an exclusion without the version covers every version', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({
        batch: { exclude: ['/api/vadmin/:id', { path: '/api/things/:id', method: 'GET' }] },
        imports: [AdminModule, { module: class ThingsModule {}, controllers: [ThingsController] }],
        configure: (app) => {
          app.setGlobalPrefix('api');
          app.enableVersioning({ type: VersioningType.URI, defaultVersion: '1' });
        },
      });
    });
    afterAll(() => t.close());
    beforeEach(() => t.recorder.reset());

    it('refuses the versioned spellings of an excluded route before any of the app runs', async () => {
      const response = await t.http
        .post('/api/batch')
        .send({
          data: [
            { method: 'GET', url: '/api/v1/vadmin/1' },
            { method: 'POST', url: '/api/v2/vadmin/1' },
            { method: 'GET', url: '/api/v1/things/7' },
            { method: 'GET', url: '/api/v2/things/7' },
            { method: 'HEAD', url: '/api/v2/things/7' },
          ],
        })
        .expect(200);
      expect(entries(response).map((entry) => entry?.code)).toEqual([403, 403, 403, 403, 403]);
      expect(sideEffects(t)).toBe(0);
    });

    it('leaves other routes of the same versions alone', async () => {
      const response = await t.http
        .post('/api/batch')
        .send({
          data: [
            { method: 'GET', url: '/api/v2/things/7/parts/wheel' },
            { method: 'GET', url: '/api/v1/echo' },
            { method: 'DELETE', url: '/api/v1/admin/3' },
          ],
        })
        .expect(200);
      expect(entries(response).map((entry) => entry?.code)).toEqual([200, 200, 200]);
    });
  });
});

describe("fastify: the check shares the adapter's request hook", () => {
  it('runs a hook the app set before, for every request the check lets by', async () => {
    const seen: string[] = [];
    const t = await createTestApp({
      platform: fastifyWith({ routerOptions: { ignoreDuplicateSlashes: true } }),
      batch: { exclude: ['/admin/:id'] },
      imports: [AdminModule],
      configure: (app) =>
        (app.getHttpAdapter() as unknown as FastifyAdapter).setOnRequestHook(
          (request: { raw: { url?: string } }, _reply: unknown, done: () => void) => {
            seen.push(request.raw.url ?? '');
            done();
          },
        ),
    });
    try {
      const response = await t.http
        .post('/batch')
        .send({
          data: [
            { method: 'GET', url: '/admin//1' },
            { method: 'GET', url: '/echo' },
          ],
        })
        .expect(200);
      expect(entries(response).map((entry) => entry?.code)).toEqual([403, 200]);
      expect(seen).toEqual(['/batch', '/echo']);
    } finally {
      await t.close();
    }
  });
});
