import type { INestApplication } from '@nestjs/common';
import cors from 'cors';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'puppeteer-core';
import type * as Client from 'nestjs-batch/client';
import {
  browserSessionModule,
  ENDINGS_SEEN,
  type EndingsSeen,
  pageHtml,
} from './fixtures/browser-session.fixtures.js';
import { CacheableModule } from './fixtures/cacheable.fixtures.js';
import { GateModule, Gates } from './fixtures/gate.controller.js';
import { FetchFidelityModule } from './fixtures/fetch-fidelity.fixtures.js';
import { describeWithChromium, useClientPages } from './utils/chromium.js';
import { currentPlatform, forEachPlatform } from './utils/platforms.js';
import { portOf, useTestApp, type TestApp } from './utils/test-app.js';
import { until } from './utils/wait-for.js';

/** The client's exports, as the bundle sets them on the page's global object. */
declare const nb: typeof Client;

/** What a page saw of one call: its status and JSON body. */
interface Seen {
  status: number;
  body: { user?: string | null; sid?: string; message?: string };
}

/** What a page's client sent: one line per batch request. */
interface Sent {
  accept: string | null;
  credentials: string | undefined;
  contentType: string | null;
}

/**
 * Runs the session's life through `client.fetch` in the page: no cookie, login, a later call,
 * the cookie rotated by an operation, a call after it, logout, a call after that. The client
 * gets `options`, each call `init`; the batches it sent are returned too.
 */
function sessionLife(
  page: Page,
  endpoint: string,
  options: Partial<Client.BatchClientOptions>,
  init: RequestInit,
): Promise<{ steps: Seen[]; sent: Sent[]; visibleCookie: string }> {
  return page.evaluate(
    async (endpoint, options, init) => {
      const sent: Sent[] = [];
      const client = new nb.BatchClient({
        ...options,
        endpoint,
        fetch: async (input, request) => {
          const reply = await fetch(input, request);
          sent.push({
            accept: new Headers(request?.headers).get('accept'),
            credentials: request?.credentials,
            contentType: reply.headers.get('content-type'),
          });
          return reply;
        },
      });
      const steps: Seen[] = [];
      const call = async (url: string, more: RequestInit = {}): Promise<void> => {
        const response = await client.fetch(url, { ...init, ...more });
        steps.push({ status: response.status, body: (await response.json()) as Seen['body'] });
      };
      const json = { 'content-type': 'application/json' };
      await call('/session/me');
      await call('/session', { method: 'POST', headers: json, body: '{"user":"ada"}' });
      await call('/session/me');
      await call('/session/rotate', { method: 'POST' });
      await call('/session/me');
      await call('/session', { method: 'DELETE' });
      await call('/session/me');
      const { document } = globalThis as unknown as { document: { cookie: string } };
      return { steps, sent, visibleCookie: document.cookie };
    },
    endpoint,
    options,
    init,
  );
}

/** The life of a session as a direct fetch shows it: the statuses and who each call was. */
function expectSessionLife(steps: Seen[]): void {
  expect(steps.map((step) => step.status)).toEqual([401, 200, 200, 200, 200, 200, 401]);
  const [, login, me, rotated, afterRotation] = steps;
  expect(me?.body).toEqual({ user: 'ada', sid: login?.body.sid });
  expect(rotated?.body.sid).not.toBe(login?.body.sid);
  // The old session is gone on the server: this call could only pass with the rotated cookie.
  expect(afterRotation?.body).toEqual({ user: 'ada', sid: rotated?.body.sid });
}

/** A page server on another port: the cross-origin front end. */
async function startPageServer(script: () => string): Promise<{ server: Server; port: number }> {
  const server = createServer((request, response) => {
    const js = request.url === '/client.js';
    response.writeHead(200, {
      'content-type': js ? 'text/javascript; charset=utf-8' : 'text/html; charset=utf-8',
    });
    response.end(js ? script() : pageHtml('/client.js'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

/** CORS for `origin`, with credentials, on the batch endpoint alone (`cors`, `@fastify/cors`). */
function corsOnBatchAlone(app: INestApplication, origin: string): void {
  const options = { origin, credentials: true };
  if (currentPlatform().name === 'express') app.use('/batch', cors(options));
  else {
    app.enableCors((request: { url?: string }, callback: (e: null, o: object) => void) =>
      callback(null, request.url?.startsWith('/batch') === true ? options : { origin: false }),
    );
  }
}

describeWithChromium('browser')('nestjs-batch/client in Chromium', () => {
  const chrome = useClientPages();
  let pages: { server: Server; port: number } | undefined;
  /** Same site, another origin: what an app at app.example.com calling api.example.com is. */
  const pageOrigin = (): string => `http://localhost:${pages!.port}`;
  const apiOf = (t: TestApp): string => `http://localhost:${portOf(t)}`;

  beforeAll(async () => {
    pages = await startPageServer(() => chrome.script);
  });
  afterAll(() => new Promise((resolve) => pages?.server.close(resolve)));

  /** The test's page: a fresh context each test, no cookie from another test. */
  let page: Page;
  beforeEach(() => {
    page = chrome.page;
  });
  const open = (url: string): Promise<void> => chrome.open(url);

  forEachPlatform(() => {
    const t = useTestApp({
      imports: [
        browserSessionModule(() => chrome.script),
        CacheableModule,
        GateModule,
        FetchFidelityModule,
      ],
      // The methods named: @fastify/cors allows only GET, HEAD and POST by default, so the
      // browser would refuse the logout's DELETE sent directly, and refuses it batched too.
      configure: (app) =>
        app.enableCors({
          origin: pageOrigin(),
          credentials: true,
          methods: ['GET', 'HEAD', 'POST', 'DELETE'],
        }),
    });

    describe('cookie sessions', () => {
      it('keeps a session on the same origin: login, later calls, a rotated cookie, logout', async () => {
        await open(`${apiOf(t)}/page`);
        const { steps, sent, visibleCookie } = await sessionLife(page, '/batch', {}, {});
        expectSessionLife(steps);
        expect(visibleCookie).toBe('');
        expect(sent).toHaveLength(7);
        // The replies that could set a cookie were JSON, which carries the operations' Set-Cookie.
        expect(sent.every((batch) => batch.contentType?.startsWith('application/json'))).toBe(true);
      });

      it('resolves a response destroyed after its headers, fails its body and keeps its cookie, as a direct fetch does', async () => {
        await open(`${apiOf(t)}/page`);
        const seen = await page.evaluate(async () => {
          const { document } = globalThis as unknown as { document: { cookie: string } };
          /** How the call settled, then how reading its body did. */
          const read = async (call: () => Promise<Response>): Promise<string> => {
            let response: Response;
            try {
              response = await call();
            } catch (error) {
              return `rejected ${(error as Error).name}`;
            }
            const seen = `${response.status} ${response.headers.get('content-type')}`;
            try {
              return `${seen} read ${await response.text()}`;
            } catch (error) {
              return `${seen} body ${(error as Error).name}`;
            }
          };
          const direct = await read(() => fetch('/session/dropped'));
          const directCookie = document.cookie;
          document.cookie = 'seen=; Path=/; Max-Age=0';
          const cleared = document.cookie;
          const client = new nb.BatchClient({ endpoint: '/batch' });
          const batched = await read(() => client.fetch('/session/dropped'));
          return { direct, directCookie, cleared, batched, batchedCookie: document.cookie };
        });
        // Directly, the call resolves and the body fails to read; the cookie came with the headers.
        expect(seen.direct).toBe('200 application/json body TypeError');
        expect(seen.directCookie).toBe('seen=dropped');
        expect(seen.cleared).toBe('');
        // Through the batch: the same, the cookie from the reply.
        expect(seen.batched).toBe(seen.direct);
        expect(seen.batchedCookie).toBe('seen=dropped');
      });

      it.each([
        ['destroyed in the tick of its first write', '/session/dropped-corked'],
        ['answered after a writeHead that threw', '/session/write-head-threw'],
      ])(
        'stores no cookie of headers that never left, for a response %s, directly and batched',
        async (_, path) => {
          await open(`${apiOf(t)}/page`);
          const seen = await page.evaluate(async (url: string) => {
            const { document } = globalThis as unknown as { document: { cookie: string } };
            const settle = (call: Promise<Response>): Promise<string> =>
              call.then(
                async (response) => `${response.status} ${await response.text()}`,
                (error: unknown) => `rejected ${(error as Error).name}`,
              );
            const direct = await settle(fetch(url));
            const directCookie = document.cookie;
            const client = new nb.BatchClient({ endpoint: '/batch' });
            const batched = await settle(client.fetch(url));
            return { direct, directCookie, batched, batchedCookie: document.cookie };
          }, path);
          expect(seen.directCookie).toBe('');
          expect(seen.batched).toBe(seen.direct);
          // Before the fixes, the batch reply set seen=corked and seen=threw.
          expect(seen.batchedCookie).toBe('');
        },
      );

      it('follows, refuses or leaves a redirect as a direct fetch does', async () => {
        await open(`${apiOf(t)}/page`);
        const seen = await page.evaluate(async () => {
          /** How the call settled: what a page reads of the Response, or the error's name. */
          const read = async (call: () => Promise<Response>): Promise<unknown> => {
            try {
              const response = await call();
              const { status, type, redirected, url } = response;
              const body = response.body ? await response.text() : null;
              return {
                status,
                type,
                redirected,
                url,
                body,
                location: response.headers.get('location'),
              };
            } catch (error) {
              return (error as Error).name;
            }
          };
          const client = new nb.BatchClient({ endpoint: '/batch' });
          const post = {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: '{"n":1}',
          };
          const calls: [string, RequestInit][] = [
            ['/fidelity/redirect/303', post],
            ['/fidelity/redirect/307', post],
            ['/fidelity/chain/3', {}],
            ['/fidelity/redirect/302', { redirect: 'manual' }],
            ['/fidelity/redirect/302', { redirect: 'error' }],
          ];
          const direct = [];
          const batched = [];
          for (const [url, init] of calls) {
            direct.push(await read(() => fetch(url, init)));
            batched.push(await read(() => client.fetch(url, init)));
          }
          return { direct, batched };
        });
        expect(seen.direct).toMatchObject([
          { status: 200, redirected: true, body: expect.stringContaining('"method":"GET"') },
          { status: 200, redirected: true, body: expect.stringContaining('"method":"POST"') },
          { status: 200, redirected: true },
          { status: 0, type: 'opaqueredirect', location: null, body: null },
          'TypeError',
        ]);
        expect(seen.batched).toEqual(seen.direct);
      });

      it("keeps a session across origins with the client's credentials: 'include'", async () => {
        await open(pageOrigin());
        const { steps, sent } = await sessionLife(
          page,
          `${apiOf(t)}/batch`,
          { credentials: 'include' },
          {},
        );
        expectSessionLife(steps);
        expect(sent.map((batch) => batch.credentials)).toEqual(Array(7).fill('include'));
      });

      it("keeps a session across origins with each call's credentials: 'include'", async () => {
        await open(pageOrigin());
        const { steps } = await sessionLife(
          page,
          `${apiOf(t)}/batch`,
          {},
          { credentials: 'include' },
        );
        expectSessionLife(steps);
      });

      it('never puts calls with different credentials in one batch request', async () => {
        await open(pageOrigin());
        const result = await page.evaluate(
          async (endpoint) => {
            const login = await fetch(endpoint.replace('/batch', '/session'), {
              method: 'POST',
              credentials: 'include',
              headers: { 'content-type': 'application/json' },
              body: '{"user":"bob"}',
            });
            let batches = 0;
            const client = new nb.BatchClient({
              endpoint,
              fetch: (input, init) => {
                batches++;
                return fetch(input, init);
              },
            });
            const [withCookie, without] = await Promise.all([
              client.fetch('/session/me', { credentials: 'include' }),
              client.fetch('/session/me'),
            ]);
            return {
              login: login.status,
              with: withCookie.status,
              without: without.status,
              batches,
            };
          },
          `${apiOf(t)}/batch`,
        );
        expect(result).toEqual({ login: 200, with: 200, without: 401, batches: 2 });
      });
    });

    describe('HTTP caching', () => {
      /** The page reads three cacheable resources twice; what each reading cost. */
      interface Readings {
        /** Requests that went to the server, per reading (a batch request counts once). */
        roundTrips: number[];
        /** Response bytes the network carried, per reading. */
        bytes: number[];
      }
      const counts = async (): Promise<{ built: number; notModified: number }> =>
        (
          await fetch(`${apiOf(t).replace('localhost', '127.0.0.1')}/cacheable/counts`)
        ).json() as Promise<{
          built: number;
          notModified: number;
        }>;
      const urls = ['/cacheable/fresh', '/cacheable/validated', '/cacheable/varied'];

      it("keeps the browser cache's savings through client.fetch: fresh reads free, 304s bodiless", async () => {
        await open(`${apiOf(t)}/page`);
        const before = await counts();
        const direct = await page.evaluate(async (urls): Promise<Readings> => {
          const readings: Readings = { roundTrips: [], bytes: [] };
          for (let round = 0; round < 2; round++) {
            performance.clearResourceTimings();
            await Promise.all(urls.map(async (url) => (await fetch(url)).json()));
            const entries = performance.getEntriesByType('resource') as unknown as {
              transferSize: number;
            }[];
            const sent = entries.filter((entry) => entry.transferSize > 0);
            readings.roundTrips.push(sent.length);
            readings.bytes.push(sent.reduce((sum, entry) => sum + entry.transferSize, 0));
          }
          return readings;
        }, urls);
        const afterDirect = await counts();
        const batched = await page.evaluate(async (urls): Promise<Readings> => {
          const readings: Readings = { roundTrips: [], bytes: [] };
          let trips = 0;
          const client = new nb.BatchClient({
            endpoint: '/batch',
            fetch: (input, init) => {
              trips++;
              return fetch(input, init);
            },
          });
          for (let round = 0; round < 2; round++) {
            trips = 0;
            performance.clearResourceTimings();
            await Promise.all(urls.map(async (url) => (await client.fetch(url)).json()));
            const entries = performance.getEntriesByType('resource') as unknown as {
              transferSize: number;
            }[];
            readings.roundTrips.push(trips);
            readings.bytes.push(entries.reduce((sum, entry) => sum + entry.transferSize, 0));
          }
          return readings;
        }, urls);
        const afterBatched = await counts();
        // Bodies the app built and sent: 3 on the first reading, none on the second, either way.
        expect(afterDirect.built - before.built).toBe(3);
        expect(afterBatched.built - afterDirect.built).toBe(3);
        // The second reading: the fresh ones cost nothing, the no-cache one a 304.
        expect(afterDirect.notModified - before.notModified).toBe(1);
        expect(afterBatched.notModified - afterDirect.notModified).toBe(1);
        expect(direct.roundTrips).toEqual([3, 1]);
        expect(batched.roundTrips).toEqual([1, 1]);
        expect(batched.bytes[1]).toBeLessThan(batched.bytes[0]!);
        if (process.env.BATCH_REPORT_CACHE) console.log(JSON.stringify({ direct, batched }));
      });
    });

    describe('a body framed by both Content-Length and Transfer-Encoding: chunked', () => {
      it('is read by its chunks directly, and refused through the batch, as Node clients refuse it', async () => {
        await open(`${apiOf(t)}/page`);
        const result = await page.evaluate(async () => {
          const outcome = (call: Promise<Response>): Promise<string> =>
            call.then(
              async (response) => `${response.status} ${await response.text()}`,
              (error: unknown) => (error as Error).name,
            );
          const client = new nb.BatchClient({ endpoint: '/batch' });
          return {
            direct: await outcome(fetch('/endings/framed-twice')),
            batched: await outcome(client.fetch('/endings/framed-twice')),
          };
        });
        // Chromium lets Transfer-Encoding win (RFC 9112 allows it); the batch takes the framing
        // error Node's clients see (docs/operations.md says why), and the client rejects as
        // Node's fetch does.
        expect(result.direct).toBe('200 hello');
        expect(result.batched).toBe('TypeError');
      });
    });

    describe('what a front end relies on', () => {
      it('batches calls made in the same tick into one request, each with its own Response', async () => {
        await open(`${apiOf(t)}/page`);
        const result = await page.evaluate(async () => {
          let batches = 0;
          const client = new nb.BatchClient({
            endpoint: '/batch',
            fetch: (input, init) => {
              batches++;
              return fetch(input, init);
            },
          });
          const responses = await Promise.all(
            ['/echo?n=1', '/echo?n=2', '/teapot'].map((url) => client.fetch(url)),
          );
          const bodies = (await Promise.all(responses.map((r) => r.json()))) as {
            query?: { n?: string };
          }[];
          return {
            batches,
            statuses: responses.map((r) => r.status),
            urls: responses.map((r) => new URL(r.url).pathname + new URL(r.url).search),
            n: bodies.map((body) => body.query?.n ?? null),
          };
        });
        expect(result).toEqual({
          batches: 1,
          statuses: [200, 200, 418],
          urls: ['/echo?n=1', '/echo?n=2', '/teapot'],
          n: ['1', '2', null],
        });
      });

      it('streams a batch whose reply stores no cookie: a fast call resolves before a slow one', async () => {
        const gates = t.app.get(Gates);
        const arrived = gates.arrived.length;
        await open(pageOrigin());
        // The slow call waits at a gate only the test opens: `/echo` must resolve while it is shut.
        const early = await page.evaluate(
          async (endpoint) => {
            const types: (string | null)[] = [];
            const client = new nb.BatchClient({
              endpoint,
              fetch: async (input, init) => {
                const reply = await fetch(input, init);
                types.push(reply.headers.get('content-type'));
                return reply;
              },
            });
            const order: string[] = [];
            const calls = ['/gate/slow', '/echo'].map((url) =>
              client.fetch(url).then(() => {
                order.push(url);
              }),
            );
            const state = globalThis as unknown as { streamed: unknown };
            state.streamed = { types, order, all: Promise.all(calls) };
            // Bounded: a reply buffered until the gate opens fails here rather than hanging.
            const echoed = await Promise.race([
              calls[1]!.then(() => true),
              new Promise<false>((resolve) => setTimeout(() => resolve(false), 10_000)),
            ]);
            return { echoed, order: [...order] };
          },
          `${apiOf(t)}/batch`,
        );
        expect(early).toEqual({ echoed: true, order: ['/echo'] });
        // The slow call reached its gate and still waits there.
        await gates.arrivals(arrived + 1);
        expect(gates.arrived.slice(arrived)).toEqual(['slow']);
        gates.releaseOldest();
        const result = await page.evaluate(async () => {
          const { streamed } = globalThis as unknown as {
            streamed: { types: (string | null)[]; order: string[]; all: Promise<unknown> };
          };
          await streamed.all;
          return { types: streamed.types, order: streamed.order };
        });
        expect(result.types).toHaveLength(1);
        expect(result.types[0]).toMatch(/^application\/x-ndjson/);
        expect(result.order).toEqual(['/echo', '/gate/slow']);
      });

      it('removes a call aborted before its batch is sent; the others still run', async () => {
        await open(`${apiOf(t)}/page`);
        const result = await page.evaluate(async () => {
          const client = new nb.BatchClient({ endpoint: '/batch' });
          const abort = new AbortController();
          const kept = client.fetch('/echo?kept=1');
          const dropped = client.fetch('/echo?dropped=1', { signal: abort.signal });
          abort.abort();
          const [keptResult, droppedResult] = await Promise.allSettled([kept, dropped]);
          return {
            kept: keptResult.status === 'fulfilled' ? keptResult.value.status : 'rejected',
            dropped:
              droppedResult.status === 'rejected'
                ? (droppedResult.reason as Error).name
                : 'fulfilled',
          };
        });
        expect(result).toEqual({ kept: 200, dropped: 'AbortError' });
        expect(t.recorder.count('echo')).toBe(1);
      });

      it('sends dependent calls written as ordinary code in one batch request', async () => {
        await open(`${apiOf(t)}/page`);
        const result = await page.evaluate(async () => {
          let batches = 0;
          const client = new nb.BatchClient({
            endpoint: '/batch',
            fetch: (input, init) => {
              batches++;
              return fetch(input, init);
            },
          });
          const json = { 'content-type': 'application/json' };
          const created = client.fetch('/items', {
            method: 'POST',
            headers: json,
            body: JSON.stringify({ name: 'pipelined' }),
          });
          const updated = client.fetch(`/items/${created.ref('$.id')}`, {
            method: 'PATCH',
            headers: json,
            body: JSON.stringify({ qty: 3 }),
          });
          const [a, b] = await Promise.all([created, updated]);
          return { batches, created: a.status, updated: await b.json() };
        });
        expect(result).toEqual({
          batches: 1,
          created: 201,
          updated: { id: expect.any(Number), name: 'pipelined', qty: 3 },
        });
      });

      it('substitutes the values of a call that resolved in an earlier batch request', async () => {
        await open(`${apiOf(t)}/page`);
        const result = await page.evaluate(async () => {
          const sent: unknown[] = [];
          const client = new nb.BatchClient({
            endpoint: '/batch',
            fetch: (input, init) => {
              sent.push((JSON.parse(init?.body as string) as { data: unknown[] }).data);
              return fetch(input, init);
            },
          });
          const json = { 'content-type': 'application/json' };
          const created = client.fetch('/items', {
            method: 'POST',
            headers: json,
            body: JSON.stringify({ name: 'later' }),
          });
          const { id } = (await (await created).json()) as { id: number };
          const updated = await client.fetch(`/items/${created.ref('$.id')}`, {
            method: 'PATCH',
            headers: { ...json, 'x-created': created.status() },
            body: JSON.stringify({ qty: created.ref('$.id') }),
          });
          return { id, updated: await updated.json(), second: sent[1] };
        });
        expect(result).toEqual({
          id: expect.any(Number),
          updated: { id: result.id, name: 'later', qty: result.id },
          second: [
            {
              method: 'PATCH',
              url: `/items/${result.id}`,
              headers: { 'content-type': 'application/json', 'x-created': '201', accept: '*/*' },
              body: { qty: result.id },
            },
          ],
        });
      });

      it('splits more calls than maxBatchSize into several batch requests', async () => {
        await open(`${apiOf(t)}/page`);
        const result = await page.evaluate(async () => {
          const sizes: number[] = [];
          const client = new nb.BatchClient({
            endpoint: '/batch',
            maxBatchSize: 2,
            fetch: (input, init) => {
              sizes.push((JSON.parse(init?.body as string) as { data: unknown[] }).data.length);
              return fetch(input, init);
            },
          });
          const responses = await Promise.all(
            [1, 2, 3, 4, 5].map((n) => client.fetch(`/echo?n=${n}`)),
          );
          return { sizes, statuses: responses.map((r) => r.status) };
        });
        expect(result).toEqual({ sizes: [2, 2, 1], statuses: [200, 200, 200, 200, 200] });
      });
    });
  });

  describe('an API with CORS on its batch endpoint alone', () => {
    forEachPlatform(() => {
      const t = useTestApp({
        imports: [browserSessionModule(() => chrome.script)],
        configure: (app) => corsOnBatchAlone(app, pageOrigin()),
      });

      it('gives a page of another origin through the batch no more than it can read directly', async () => {
        // The user logs in on the API's own page: the browser holds the session cookie.
        await open(`${apiOf(t)}/page`);
        const ownPage = (): Promise<number> =>
          page.evaluate(async () => (await fetch('/session/me')).status);
        await page.evaluate(async () => {
          await fetch('/session', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: '{"user":"ada"}',
          });
        });
        expect(await ownPage()).toBe(200);

        await open(pageOrigin());
        const result = await page.evaluate(async (api) => {
          const client = new nb.BatchClient({ endpoint: `${api}/batch`, credentials: 'include' });
          const outcome = (call: Promise<Response>): Promise<string> =>
            call.then(
              async (response) => `${response.status} ${await response.text()}`,
              // What a script can read of the refusal: nothing more batched than directly.
              (error: unknown) => `${(error as Error).name}: ${(error as Error).message}`,
            );
          return {
            direct: await outcome(fetch(`${api}/session/me`, { credentials: 'include' })),
            batched: await outcome(client.fetch('/session/me')),
            logout: await outcome(client.fetch('/session', { method: 'DELETE' })),
          };
        }, apiOf(t));
        const refused = 'TypeError: Failed to fetch';
        expect(result).toEqual({ direct: refused, batched: refused, logout: refused });

        // The logout never ran: the session is still there.
        await open(`${apiOf(t)}/page`);
        expect(await ownPage()).toBe(200);
      });

      it('rejects a stream the page may not read at its headers, directly and batched; both keep its cookie', async () => {
        const seen = t.app.get<EndingsSeen>(ENDINGS_SEEN);
        seen.closed.length = 0;
        await open(pageOrigin());
        const result = await page.evaluate(async (api) => {
          const { document } = globalThis as unknown as { document: { cookie: string } };
          const client = new nb.BatchClient({ endpoint: `${api}/batch`, credentials: 'include' });
          const outcome = (call: Promise<Response>): Promise<string> =>
            call.then(
              (response) => `${response.status}`,
              (error: unknown) => (error as Error).name,
            );
          const direct = await outcome(
            fetch(`${api}/endings/events?direct`, { credentials: 'include' }),
          );
          // Cookies are not per port: the API's cookie is the page's host's too.
          const directCookie = document.cookie;
          document.cookie = 'streamed=; Path=/; Max-Age=0';
          const cleared = document.cookie;
          const batched = await outcome(client.fetch('/endings/events?batched'));
          return { direct, directCookie, cleared, batched, batchedCookie: document.cookie };
        }, apiOf(t));
        // fetch() rejects at the headers; the browser stored their cookie all the same.
        expect(result).toEqual({
          direct: 'TypeError',
          directCookie: 'streamed=1',
          cleared: '',
          batched: 'TypeError',
          batchedCookie: 'streamed=1',
        });
        // The stream was dropped, not left to run: by the batch as its headers went out, by the
        // browser once it gave up draining the body for the connection's reuse.
        expect(seen.closed).toContain('/endings/events?batched');
        await until(() => seen.closed.length === 2, 'both streams closed');
        expect(seen.closed).toContain('/endings/events?direct');
      });

      it('rejects a call whose preflight fails, directly and batched, and never runs it', async () => {
        const seen = t.app.get<EndingsSeen>(ENDINGS_SEEN);
        seen.guardedRuns = 0;
        await open(pageOrigin());
        const result = await page.evaluate(async (api) => {
          const client = new nb.BatchClient({ endpoint: `${api}/batch`, credentials: 'include' });
          const outcome = (call: Promise<Response>): Promise<string> =>
            call.then(
              (response) => `${response.status}`,
              (error: unknown) => (error as Error).name,
            );
          const put = { method: 'PUT', credentials: 'include' } as const;
          return {
            direct: await outcome(fetch(`${api}/endings/guarded`, put)),
            batched: await outcome(client.fetch('/endings/guarded', put)),
          };
        }, apiOf(t));
        expect(result).toEqual({ direct: 'TypeError', batched: 'TypeError' });
        expect(seen.guardedRuns).toBe(0);
      });
    });
  });

  describe('an API that times its operations out', () => {
    forEachPlatform(() => {
      const t = useTestApp({
        imports: [browserSessionModule(() => chrome.script)],
        batch: { operationTimeout: 300 },
      });

      it('gives the page the status and cookie of a stream cut off after its headers', async () => {
        await open(`${apiOf(t)}/page`);
        const result = await page.evaluate(async () => {
          const { document } = globalThis as unknown as { document: { cookie: string } };
          const direct = await fetch('/endings/events');
          const reader = direct.body!.getReader();
          const first = new TextDecoder().decode((await reader.read()).value);
          await reader.cancel();
          const directCookie = document.cookie;
          document.cookie = 'streamed=; Path=/; Max-Age=0';
          const cleared = document.cookie;
          const client = new nb.BatchClient({ endpoint: '/batch' });
          const batched = await client.fetch('/endings/events');
          const read = await batched.text().then(
            () => 'read',
            (error: unknown) => (error as Error).name,
          );
          return {
            direct: `${direct.status} ${first}`,
            directCookie,
            cleared,
            batched: `${batched.status} ${read}`,
            batchedCookie: document.cookie,
          };
        });
        // Directly the page reads the status and streams on (it gave up here, after a chunk)...
        expect(result.direct).toBe('200 data: first\n\n');
        expect(result.directCookie).toBe('streamed=1');
        expect(result.cleared).toBe('');
        // ...through the batch, operationTimeout ends it: the page reads the status, then the
        // body fails, as if a gateway had cut the connection (docs/client.md).
        expect(result.batched).toBe('200 TypeError');
        expect(result.batchedCookie).toBe('streamed=1');
      });
    });
  });

  describe('an API without a CORS set-up', () => {
    forEachPlatform(() => {
      const t = useTestApp({ imports: [browserSessionModule(() => chrome.script)] });

      it('rejects each cross-origin call as the browser rejects a direct fetch', async () => {
        await open(pageOrigin());
        const result = await page.evaluate(
          async (endpoint) => {
            const client = new nb.BatchClient({ endpoint });
            const direct = await fetch(`${endpoint.replace('/batch', '')}/echo`).catch(
              (error: unknown) => (error as Error).name,
            );
            const batched = await Promise.allSettled([
              client.fetch('/echo'),
              client.fetch('/session/me'),
            ]);
            return {
              direct,
              batched: batched.map((one) =>
                one.status === 'rejected' ? (one.reason as Error).name : one.value.status,
              ),
            };
          },
          `${apiOf(t)}/batch`,
        );
        expect(result).toEqual({ direct: 'TypeError', batched: ['TypeError', 'TypeError'] });
      });
    });
  });
});
