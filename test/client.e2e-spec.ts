import { Controller, Get, Injectable, Module, Param, Req } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BatchClient,
  BatchEntryMissingError,
  BatchRejectedError,
  ref,
  type BatchClientOptions,
} from 'nestjs-batch/client';
import { useTestApp, type TestApp, withTestApp, endpointOf } from './utils/test-app.js';
import { forEachPlatform } from './utils/platforms.js';
import { BatchEnds, BatchEndsModule, until } from './utils/wait-for.js';
import { GateModule, Gates } from './fixtures/gate.controller.js';
import { nodeRequestOf } from './utils/node-response.js';

/**
 * Requests that wait until their client leaves (their request closes) or the test lets them
 * answer: what a handler sees of a fetch its page aborted.
 */
@Injectable()
class Watches {
  readonly started = new Set<string>();
  /** Requests that closed before their handler answered: their client left. */
  readonly closed = new Set<string>();
  private readonly answers = new Map<string, () => void>();

  watch(tag: string, request: object): Promise<void> {
    this.started.add(tag);
    return new Promise((resolve) => {
      let answered = false;
      this.answers.set(tag, () => {
        answered = true;
        resolve();
      });
      // An answered request closes too, once its response finished: only a close before counts.
      nodeRequestOf(request).once('close', () => {
        if (!answered) this.closed.add(tag);
        resolve();
      });
    });
  }

  answer(tag: string): void {
    this.answers.get(tag)?.();
  }
}

@Controller('watch')
class WatchController {
  constructor(private readonly watches: Watches) {}

  @Get(':tag')
  async watch(@Param('tag') tag: string, @Req() request: object): Promise<{ tag: string }> {
    await this.watches.watch(tag, request);
    return { tag };
  }
}

@Module({ controllers: [WatchController], providers: [Watches] })
class WatchModule {}

/**
 * Opens the gate after `ms` unless cancelled first: a client that waits for the whole batch
 * then fails the assertions after 10 s, rather than hang until the test's timeout.
 */
function fallbackOpen(gates: Gates, ms = 10_000): { fired: boolean; cancel: () => void } {
  const fallback = {
    fired: false,
    cancel: () => clearTimeout(timer),
  };
  const timer = setTimeout(() => {
    fallback.fired = true;
    gates.releaseOldest();
  }, ms);
  return fallback;
}

forEachPlatform(() => {
  /** Batch requests the app received: the proof that N calls made one round trip. */
  const batchRequests = (t: TestApp): number => t.recorder.count('middleware POST /batch');

  describe('BatchClient against a real app', () => {
    const t = useTestApp({ batch: { timeout: 1_000 } });
    const client = (options: Partial<BatchClientOptions> = {}): BatchClient =>
      new BatchClient({ endpoint: endpointOf(t), ...options });
    /** The Response of a settled result, failing the test with the reason when it was rejected. */
    const fulfilled = (result: PromiseSettledResult<Response> | undefined): Response => {
      if (result?.status !== 'fulfilled')
        throw new Error(`not fulfilled: ${String(result?.status)}`);
      return result.value;
    };

    describe('batch()', () => {
      it('returns settled Responses in order, with references between operations', async () => {
        const settled = await client().batch([
          { method: 'POST', url: '/items', name: 'create', body: { name: 'lamp' } },
          { url: `/items/${ref('create', '$.id')}` },
          { url: '/text' },
          { url: '/teapot' },
        ]);
        expect(settled.map((result) => result.status)).toEqual([
          'fulfilled',
          'fulfilled',
          'fulfilled',
          'fulfilled',
        ]);
        const [created, read, text, teapot] = settled.map(fulfilled);
        expect(created).toBeInstanceOf(Response);
        const item = (await created!.json()) as { id: number; name: string };
        expect(created!.status).toBe(201);
        expect(created!.statusText).toBe('Created');
        expect(read!.url).toBe(endpointOf(t).replace('/batch', `/items/${item.id}`));
        expect(await read!.json()).toEqual(item);
        expect(read!.headers.get('x-intercepted')).toBe('yes');
        expect(text!.headers.get('content-type')).toMatch(/^text\/plain/);
        expect(await text!.text()).toBe('plain words');
        expect(teapot!.status).toBe(418);
        expect(teapot!.ok).toBe(false);
        expect(batchRequests(t)).toBe(1);
      });

      it('gives binary bodies back as the same bytes, and no body for HEAD', async () => {
        const direct = new Uint8Array(
          await (await fetch(endpointOf(t).replace('/batch', '/binary'))).arrayBuffer(),
        );
        const [binary, head] = (
          await client().batch([{ url: '/binary' }, { method: 'HEAD', url: '/echo' }])
        ).map(fulfilled);
        expect(new Uint8Array(await binary!.arrayBuffer())).toEqual(direct);
        expect(head!.body).toBeNull();
      });

      it('rejects the result of an entry the server returned as null, with a typed reason', async () => {
        const [hung, omitted, echo] = await client().batch([
          { url: '/hang' },
          { url: '/echo', omitResponseOnSuccess: true },
          { url: '/echo' },
        ]);
        expect(hung).toMatchObject({ status: 'rejected' });
        const reason = (hung as PromiseRejectedResult).reason as unknown;
        expect(reason).toBeInstanceOf(BatchEntryMissingError);
        expect(reason).toMatchObject({ index: 0, reason: 'timeout' });
        expect(omitted).toMatchObject({
          status: 'rejected',
          reason: { index: 1, reason: 'omitted' },
        });
        expect(fulfilled(echo).status).toBe(200);
      });

      it('rejects with the server message when the batch is refused as a whole', async () => {
        const refused = client().batch([{ url: '/echo', name: 'a', dependsOn: ['a'] }]);
        await expect(refused).rejects.toBeInstanceOf(BatchRejectedError);
        await expect(refused).rejects.toMatchObject({
          status: 400,
          message: expect.stringMatching(/depends on itself|cycle/) as unknown,
        });
      });
    });

    describe('fetch()', () => {
      it('sends calls made in the same tick as one batch; each resolves to its own Response', async () => {
        const batching = client();
        const responses = await Promise.all(
          Array.from({ length: 10 }, (_, i) => batching.fetch(`/echo?i=${i}`)),
        );
        const bodies = (await Promise.all(responses.map((r) => r.json()))) as {
          query: { i: string };
        }[];
        expect(bodies.map((body) => body.query.i)).toEqual(
          Array.from({ length: 10 }, (_, i) => String(i)),
        );
        expect(batchRequests(t)).toBe(1);
        expect(t.recorder.count('echo')).toBe(10);
      });

      it('splits more calls than maxBatchSize into several batches', async () => {
        const batching = client({ maxBatchSize: 4 });
        const responses = await Promise.all(
          Array.from({ length: 10 }, () => batching.fetch('/echo')),
        );
        expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
        expect(batchRequests(t)).toBe(3);
      });

      it('makes existing fetch code batch with no other change', async () => {
        // Code written for the global fetch, unaware of batching.
        async function createAndRead(
          fetchImpl: typeof fetch,
          base: string,
          names: string[],
        ): Promise<string[]> {
          const created = await Promise.all(
            names.map((name) =>
              fetchImpl(`${base}/items`, {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                body: JSON.stringify({ name }),
              }).then((r) => r.json() as Promise<{ id: number }>),
            ),
          );
          const read = await Promise.all(
            created.map(({ id }) =>
              fetchImpl(`${base}/items/${id}`).then((r) => r.json() as Promise<{ name: string }>),
            ),
          );
          return read.map((item) => item.name);
        }
        const base = endpointOf(t).replace('/batch', '');
        expect(await createAndRead(client().fetch, base, ['a', 'b', 'c'])).toEqual(['a', 'b', 'c']);
        expect(batchRequests(t)).toBe(2);
        expect(t.recorder.count('middleware POST /items')).toBe(3);
      });

      it('sends requests to other origins straight to the underlying fetch', async () => {
        const seen: string[] = [];
        const spy: typeof fetch = (input, init) => {
          seen.push(input instanceof Request ? input.url : String(input));
          return fetch(input, init);
        };
        const other = endpointOf(t).replace('127.0.0.1', 'localhost').replace('/batch', '/echo');
        const response = await client({ fetch: spy }).fetch(other);
        expect(response.status).toBe(200);
        expect(seen).toEqual([other]);
        expect(batchRequests(t)).toBe(0);
      });

      it("sends each batch with its calls' credentials and mode; different ones never share a batch", async () => {
        const sent: { credentials?: string; mode?: string; size: number }[] = [];
        const spy: typeof fetch = (input, init) => {
          const { data } = JSON.parse(init?.body as string) as { data: unknown[] };
          sent.push({ credentials: init?.credentials, mode: init?.mode, size: data.length });
          return fetch(input, init);
        };
        const batching = client({ fetch: spy, credentials: 'include' });
        const responses = await Promise.all([
          batching.fetch('/echo'),
          batching.fetch('/echo', { credentials: 'omit' }),
          batching.fetch('/echo'),
          batching.fetch(new Request(endpointOf(t).replace('/batch', '/echo'))),
          batching.fetch('/echo', { mode: 'same-origin' }),
        ]);
        expect(responses.map((r) => r.status)).toEqual(Array(5).fill(200));
        expect(sent).toEqual([
          { credentials: 'include', mode: 'cors', size: 2 },
          { credentials: 'omit', mode: 'cors', size: 1 },
          // A Request carries its own credentials: the fetch default, 'same-origin'.
          { credentials: 'same-origin', mode: 'cors', size: 1 },
          { credentials: 'include', mode: 'same-origin', size: 1 },
        ]);
      });

      it('adds the request headers of a cache mode as fetch does, and batches by cache mode', async () => {
        const batching = client();
        // Node's RequestInit type leaves `cache` out; its Request takes it.
        const withCache = (cache: string, init: RequestInit = {}): RequestInit =>
          ({ ...init, cache }) as RequestInit;
        const [plain, noStore, noCache, own] = await Promise.all([
          batching.fetch('/echo'),
          batching.fetch('/echo', withCache('no-store')),
          batching.fetch('/echo', withCache('no-cache')),
          batching.fetch(
            '/echo',
            withCache('reload', { headers: { 'cache-control': 'max-age=5' } }),
          ),
        ]);
        const headersOf = async (r: Response | undefined): Promise<Record<string, string>> =>
          ((await r!.json()) as { headers: Record<string, string> }).headers;
        expect(await headersOf(plain)).not.toHaveProperty('cache-control');
        expect(await headersOf(noStore)).toMatchObject({
          'cache-control': 'no-cache',
          pragma: 'no-cache',
        });
        const noCacheHeaders = await headersOf(noCache);
        expect(noCacheHeaders).toMatchObject({ 'cache-control': 'max-age=0' });
        expect(noCacheHeaders).not.toHaveProperty('pragma');
        expect(await headersOf(own)).toMatchObject({
          'cache-control': 'max-age=5',
          pragma: 'no-cache',
        });
        expect(batchRequests(t)).toBe(4);
      });

      it('sends no-cors and only-if-cached calls to the underlying fetch unchanged', async () => {
        const seen: string[] = [];
        const spy: typeof fetch = (input) => {
          seen.push(input instanceof Request ? `${input.mode} ${input.cache}` : 'batch');
          return Promise.resolve(new Response('direct'));
        };
        const batching = client({ fetch: spy });
        await batching.fetch('/echo', { mode: 'no-cors' });
        await batching.fetch('/echo', {
          mode: 'same-origin',
          cache: 'only-if-cached',
        } as RequestInit);
        expect(seen).toEqual(['no-cors default', 'same-origin only-if-cached']);
      });

      it('asks for a streamed reply unless told not to, or unless the reply could store a cookie', async () => {
        const accepts: (string | null)[] = [];
        const spy: typeof fetch = (input, init) => {
          accepts.push(new Headers(init?.headers).get('accept'));
          return fetch(input, init);
        };
        // No page here: nothing would store the reply's cookies, so the default streams.
        await client({ fetch: spy }).fetch('/echo');
        await client({ fetch: spy, stream: false }).fetch('/echo');
        await client({ fetch: spy, headers: { accept: 'text/html' } }).batch([{ url: '/echo' }]);
        expect(accepts).toEqual([
          'application/x-ndjson, application/json;q=0.5',
          'application/json',
          'application/x-ndjson, application/json;q=0.5',
        ]);
      });

      it('refuses credentials and stream options fetch would not take', () => {
        expect(() => client({ credentials: 'always' as 'omit' })).toThrow(
          "BatchClient: credentials must be 'omit', 'same-origin' or 'include'",
        );
        expect(() => client({ stream: 'yes' as 'auto' })).toThrow(
          "BatchClient: stream must be true, false or 'auto'",
        );
      });

      it('keeps references in absolute urls of the endpoint origin', async () => {
        const [created, read] = (
          await client().batch([
            { method: 'POST', url: '/items', name: 'made', body: { name: 'desk' } },
            { url: `${endpointOf(t).replace('/batch', '')}/items/${ref('made', '$.id')}` },
          ])
        ).map(fulfilled);
        expect(created!.status).toBe(201);
        expect(await read!.json()).toMatchObject({ name: 'desk' });
      });

      it('removes a call aborted before its batch is sent; the others still run', async () => {
        const batching = client();
        const abort = new AbortController();
        const kept = batching.fetch('/echo?kept=1');
        const dropped = batching.fetch('/echo?dropped=1', { signal: abort.signal });
        abort.abort();
        await expect(dropped).rejects.toMatchObject({ name: 'AbortError' });
        expect((await kept).status).toBe(200);
        expect(t.recorder.count('echo')).toBe(1);
      });

      it('rejects a call whose operation timed out with BatchEntryMissingError', async () => {
        await expect(client().fetch('/hang')).rejects.toBeInstanceOf(BatchEntryMissingError);
      });

      it('rejects every call with the server message when the batch is refused', async () => {
        const batching = client({ maxBatchSize: 60 });
        const calls = Array.from({ length: 51 }, () => batching.fetch('/echo'));
        const results = await Promise.allSettled(calls);
        expect(results.every((r) => r.status === 'rejected')).toBe(true);
        expect((results[0] as PromiseRejectedResult).reason).toMatchObject({
          name: 'BatchRejectedError',
          status: 413,
          message: 'A batch may hold at most 50 operations; this one has 51',
        });
        expect(t.recorder.count('echo')).toBe(0);
      });

      it('rejects every pending call with the network error when the server cannot be reached', async () => {
        const closed = createServer();
        await new Promise<void>((done) => closed.listen(0, '127.0.0.1', done));
        const { port } = closed.address() as AddressInfo;
        await new Promise((done) => closed.close(done));
        const unreachable = new BatchClient({ endpoint: `http://127.0.0.1:${port}/batch` });
        const results = await Promise.allSettled([
          unreachable.fetch('/echo'),
          unreachable.fetch('/items'),
        ]);
        const reasons = results.map((r) => (r as PromiseRejectedResult).reason as Error);
        // The very error the global fetch rejects with (a TypeError from another realm here).
        expect(reasons[0]).toMatchObject({ name: 'TypeError', message: 'fetch failed' });
        expect(reasons[0]?.cause).toBeDefined();
        expect(reasons[1]).toBe(reasons[0]);
      });

      it('resolves a fast call before a slow one in the same batch has finished', async () => {
        // The slow call waits at a gate only the test opens: the fast one must resolve first.
        await withTestApp({ imports: [GateModule] }, async (app) => {
          const gates = app.app.get(Gates);
          const batching = new BatchClient({ endpoint: endpointOf(app) });
          let slowResolved = false;
          const slow = batching.fetch('/gate/slow').then((response) => {
            slowResolved = true;
            return response.json();
          });
          const fallback = fallbackOpen(gates);
          const echo = await batching.fetch('/echo');
          expect(echo.status).toBe(200);
          expect({ fallback: fallback.fired, slowResolved }).toEqual({
            fallback: false,
            slowResolved: false,
          });
          fallback.cancel();
          await gates.arrivals(1);
          expect(slowResolved).toBe(false);
          gates.releaseOldest();
          expect(await slow).toEqual({ tag: 'slow' });
          expect(batchRequests(app)).toBe(1);
        });
      });
    });

    describe('stream()', () => {
      it('yields entries as they finish, in completion order', async () => {
        // The first operation waits at a gate the test opens only once the second was yielded.
        await withTestApp({ imports: [GateModule] }, async (app) => {
          const gates = app.app.get(Gates);
          const order: number[] = [];
          const fallback = fallbackOpen(gates);
          for await (const { index, entry } of new BatchClient({
            endpoint: endpointOf(app),
          }).stream([{ url: '/gate/first' }, { url: '/echo' }])) {
            order.push(index);
            expect(entry?.code).toBe(200);
            if (index === 1) {
              fallback.cancel();
              await gates.arrivals(1);
              gates.releaseOldest();
            }
          }
          fallback.cancel();
          expect(order).toEqual([1, 0]);
          expect(fallback.fired).toBe(false);
        });
      });

      it("cuts its batch once every call still unanswered in it was aborted: their operations' requests close, as directly", async () => {
        await withTestApp({ imports: [WatchModule, BatchEndsModule] }, async (app) => {
          const watches = app.app.get(Watches);
          const ends = app.app.get(BatchEnds);
          // Directly, an aborted fetch closes the request its handler is still answering.
          const directly = new AbortController();
          const direct = fetch(`${endpointOf(app).replace('/batch', '')}/watch/direct`, {
            signal: directly.signal,
          }).catch((error: unknown) => error);
          await until(() => watches.started.has('direct'), 'the direct request started');
          directly.abort();
          expect(await direct).toMatchObject({ name: 'AbortError' });
          await until(() => watches.closed.has('direct'), 'the direct request closed');

          const batching = new BatchClient({ endpoint: endpointOf(app) });
          const [a, b] = [new AbortController(), new AbortController()];
          const calls = [
            batching.fetch('/watch/a', { signal: a.signal }),
            batching.fetch('/watch/b', { signal: b.signal }),
            batching.fetch('/watch/c'),
          ].map((call) => call.catch((error: unknown) => error));
          await until(() => watches.started.size === 4, 'the three operations started');
          a.abort();
          // c still waits for its answer: the batch goes on, and c gets it.
          watches.answer('c');
          expect(await calls[2]).toMatchObject({ status: 200 });
          b.abort();
          expect(await calls[0]).toMatchObject({ name: 'AbortError' });
          expect(await calls[1]).toMatchObject({ name: 'AbortError' });
          // Before the fix, a and b ran on, their requests open, until the batch's timeout.
          await until(
            () => watches.closed.has('a') && watches.closed.has('b'),
            "the aborted calls' requests closed",
          );
          expect(watches.closed.has('c')).toBe(false);
          expect(await ends.next()).toMatchObject({ end: 'aborted' });
        });
      });

      it('does not cut a batch answered as one JSON reply, whose cookies the browser would keep: its aborted calls run on', async () => {
        await withTestApp({ imports: [WatchModule, BatchEndsModule] }, async (app) => {
          const watches = app.app.get(Watches);
          const ends = app.app.get(BatchEnds);
          const whole = new BatchClient({ endpoint: endpointOf(app), stream: false });
          const abort = new AbortController();
          const call = whole
            .fetch('/watch/whole', { signal: abort.signal })
            .catch((error: unknown) => error);
          await until(() => watches.started.has('whole'), 'the operation started');
          abort.abort();
          expect(await call).toMatchObject({ name: 'AbortError' });
          watches.answer('whole');
          expect(await ends.next()).toMatchObject({ end: 'completed' });
          expect(watches.closed.has('whole')).toBe(false);
        });
      });

      it('stops the operations not yet started when the loop is left early', async () => {
        await withTestApp(
          { batch: { concurrency: 1 }, imports: [BatchEndsModule] },
          async (app) => {
            const ends = app.app.get(BatchEnds);
            const streaming = new BatchClient({ endpoint: endpointOf(app) });
            for await (const { index } of streaming.stream([
              { url: '/echo' },
              { url: '/slow/200' },
              { url: '/slow/200' },
              { url: '/slow/200' },
            ])) {
              expect(index).toBe(0);
              break;
            }
            // Left after the first entry: at most one `/slow/200` had started, none answered.
            expect(await ends.next()).toMatchObject({ end: 'aborted', finished: 1, unfinished: 3 });
            await until(() => app.recorder.inFlight === 0, 'the started operation returned');
            // Its slot is free now: a queue that had not stopped would start the next
            // `/slow/200`, which a request of its own through the app would find begun.
            await app.http.get('/echo').expect(200);
            expect(app.recorder.count('slow')).toBeLessThanOrEqual(1);
            expect(app.recorder.inFlight).toBe(0);
          },
        );
      });
    });
  });

  describe('the client bundle', () => {
    it('imports nothing but its own relative modules: no Nest, no Node built-ins', () => {
      const root = resolve(dirname(fileURLToPath(import.meta.url)), '../dist/client');
      const seen = new Set<string>();
      const visit = (file: string): void => {
        if (seen.has(file)) return;
        seen.add(file);
        const source = readFileSync(file, 'utf8');
        for (const [, specifier] of source.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)) {
          expect(specifier).toMatch(/^\.\.?\//);
          visit(join(dirname(file), specifier!));
        }
      };
      visit(join(root, 'index.js'));
      expect(seen.size).toBeGreaterThan(3);
    });
  });
});
