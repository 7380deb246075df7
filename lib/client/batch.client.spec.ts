import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { BatchOperation, BatchResult } from '../interfaces/batch-operation.interface.js';
import { BatchClient } from './batch.client.js';

// A full collection on demand, to see what the client still holds (jest has no --expose-gc).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const json = { 'content-type': 'application/json' };

/**
 * A fetch that answers each batch request with what `answer` gives for its operations, as one
 * JSON reply, and records the operations it was sent.
 */
function server(answer: (operation: BatchOperation, index: number) => BatchResult): {
  fetch: typeof fetch;
  batches: BatchOperation[][];
} {
  const batches: BatchOperation[][] = [];
  return {
    batches,
    fetch: (_input, init) => {
      const { data } = JSON.parse(init?.body as string) as { data: BatchOperation[] };
      batches.push(data);
      return Promise.resolve(Response.json({ data: data.map(answer) }));
    },
  };
}

const ok = (operation: BatchOperation, index: number): BatchResult => ({
  method: operation.method,
  url: operation.url,
  code: 200,
  headers: json,
  body: { id: index, url: operation.url },
});

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('BatchClient', () => {
  describe('references kept for later calls', () => {
    /** The calls the client can still give a value for (held strongly, or not yet collected). */
    const live = (client: BatchClient): number => {
      const targets = (client as unknown as { targets: Map<string, unknown> }).targets;
      return [...targets.values()].filter(
        (target) => !(target instanceof WeakRef) || target.deref() !== undefined,
      ).length;
    };

    it('releases a referenced call once it has settled and its promise is dropped', async () => {
      const { fetch } = server(ok);
      const client = new BatchClient({ endpoint: 'http://api.test/batch', fetch });
      const kept = client.fetch('/kept');
      const keptId = kept.ref('$.url');
      await kept;
      await (async () => {
        for (let i = 0; i < 200; i++) {
          const call = client.fetch(`/items/${i}`);
          call.ref('$.id');
          await call;
        }
      })();
      await nextTurn();
      gc();
      expect(live(client)).toBe(1);
      // The call whose promise is still held answers references made before and after it settled.
      const later = client.fetch(`/after/${keptId}`, {
        headers: { 'x-from': kept.ref('$.url') },
      });
      const { url } = (await (await later).json()) as { url: string };
      expect(url).toBe(`/after/${encodeURIComponent('/kept')}`);
    });

    it('holds a pending call strongly until it settles', async () => {
      let release: (() => void) | undefined;
      const { fetch: answer } = server(ok);
      const client = new BatchClient({
        endpoint: 'http://api.test/batch',
        fetch: (input, init) =>
          new Promise((resolve) => {
            release = () => resolve(answer(input, init));
          }),
      });
      (() => {
        client.fetch('/slow').ref('$.id');
      })();
      await nextTurn();
      gc();
      expect(live(client)).toBe(1);
      release?.();
    });
  });

  describe('pipelined calls', () => {
    it('are sent as the explicit batch of the same work is: the references carry the order', async () => {
      const { fetch, batches } = server(ok);
      const client = new BatchClient({ endpoint: 'http://api.test/batch', fetch });
      const first = client.fetch('/item');
      const id = first.ref('$.id');
      await Promise.all([
        first,
        client.fetch(`/item?after=${id}`),
        client.fetch(`/item?after=${id}`),
      ]);
      await client.batch([
        { url: '/item', name: 'first' },
        { url: '/item?after={result=first:$.id}' },
        { url: '/item?after={result=first:$.id}' },
      ]);
      const [pipelined, explicit] = batches;
      const name = pipelined?.[0]?.name ?? '';
      // Each call carries the Accept fetch sends (`*/*`); an explicit operation, what it says.
      expect(pipelined?.map((operation) => operation.headers)).toEqual(
        Array(3).fill({ accept: '*/*' }),
      );
      const withoutHeaders = pipelined?.map((operation) => ({ ...operation, headers: undefined }));
      expect(JSON.stringify(withoutHeaders).replaceAll(name, 'first')).toBe(
        JSON.stringify(explicit),
      );
      expect(explicit).toEqual([
        { method: 'GET', url: '/item', name: 'first' },
        { method: 'GET', url: '/item?after={result=first:$.id}' },
        { method: 'GET', url: '/item?after={result=first:$.id}' },
      ]);
    });
  });

  describe('HTTP cache', () => {
    const tagged = (operation: BatchOperation, index: number): BatchResult =>
      operation.method !== 'GET'
        ? { ...ok(operation, index), code: 204, body: undefined, headers: {} }
        : operation.headers?.['if-none-match'] === '"1"'
          ? { method: 'GET', url: operation.url, code: 304, headers: { etag: '"1"' } }
          : {
              method: 'GET',
              url: operation.url,
              code: 200,
              headers: { ...json, etag: '"1"', 'cache-control': 'no-cache' },
              body: { version: 1 },
            };

    it('resolves a 304 with the body kept at lookup, though the entry left the cache before it', async () => {
      const { fetch, batches } = server(tagged);
      const client = new BatchClient({ endpoint: 'http://api.test/batch', fetch, httpCache: true });
      expect(await (await client.fetch('/doc')).json()).toEqual({ version: 1 });
      // The PATCH's entry comes first and drops what the cache kept for /doc; the server ran the
      // GET before it (they do not depend on each other) and answered 304.
      const [patched, again] = await Promise.all([
        client.fetch('/doc', { method: 'PATCH', headers: json, body: '{}' }),
        client.fetch('/doc'),
      ]);
      expect(batches[1]?.map((operation) => operation.headers?.['if-none-match'])).toEqual([
        undefined,
        '"1"',
      ]);
      expect(patched.status).toBe(204);
      expect(again.status).toBe(200);
      expect(await again.json()).toEqual({ version: 1 });
    });

    it('resolves a 304 with the body kept at lookup when the entry was evicted meanwhile', async () => {
      const { fetch } = server(tagged);
      const client = new BatchClient({
        endpoint: 'http://api.test/batch',
        fetch,
        httpCache: true,
        maxBatchSize: 400,
      });
      await (await client.fetch('/doc')).json();
      // One batch request: 300 other urls, whose entries come first and are stored before the
      // 304 is read, more than the cache keeps; then the revalidation.
      const others = Array.from({ length: 300 }, (_, i) => client.fetch(`/other/${i}`));
      const again = client.fetch('/doc');
      await Promise.all(others);
      const response = await again;
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ version: 1 });
    });

    it('passes a 304 through to a caller that sent its own validator', async () => {
      const { fetch } = server(tagged);
      const client = new BatchClient({ endpoint: 'http://api.test/batch', fetch, httpCache: true });
      await (await client.fetch('/doc')).json();
      const mine = await client.fetch('/doc', { headers: { 'if-none-match': '"1"' } });
      expect(mine.status).toBe(304);
    });

    it("keeps no response varying by the page's cookies: a Last-Modified does not tell users apart", async () => {
      let user = 'alice';
      const sent: BatchOperation[] = [];
      const fetch: typeof globalThis.fetch = (_input, init) => {
        const { data } = JSON.parse(init?.body as string) as { data: BatchOperation[] };
        sent.push(...data);
        // The record's date is the same for every user: a 304 to its If-Modified-Since.
        const answer = (operation: BatchOperation): BatchResult =>
          operation.headers?.['if-modified-since']
            ? { method: 'GET', url: operation.url, code: 304, headers: {} }
            : {
                method: 'GET',
                url: operation.url,
                code: 200,
                headers: {
                  ...json,
                  vary: 'Cookie',
                  'cache-control': 'private, max-age=0',
                  'last-modified': 'Mon, 07 Dec 2026 10:00:00 GMT',
                },
                body: { user },
              };
        return Promise.resolve(Response.json({ data: data.map(answer) }));
      };
      const client = new BatchClient({ endpoint: 'http://api.test/batch', fetch, httpCache: true });
      expect(await (await client.fetch('/me')).json()).toEqual({ user: 'alice' });
      user = 'bob';
      // Before the fix: revalidated, answered 304, and alice's profile given to bob.
      expect(await (await client.fetch('/me')).json()).toEqual({ user: 'bob' });
      expect(sent.map((operation) => operation.headers?.['if-modified-since'])).toEqual([
        undefined,
        undefined,
      ]);
    });

    it('empties itself on a Clear-Site-Data "cache" the underlying fetch answered', async () => {
      const { fetch: answer, batches } = server((operation, index) => ({
        ...ok(operation, index),
        headers: { ...json, 'cache-control': 'max-age=60' },
      }));
      const fetch: typeof globalThis.fetch = (input, init) =>
        String(input instanceof Request ? input.url : input).endsWith('/batch')
          ? answer(input, init)
          : Promise.resolve(
              new Response('{}', { headers: { 'clear-site-data': '"cache"', ...json } }),
            );
      const client = new BatchClient({ endpoint: 'http://api.test/batch', fetch, httpCache: true });
      await client.fetch('/doc');
      expect(batches).toHaveLength(1);
      // A form upload goes to the underlying fetch: its answer logs the page out.
      await client.fetch('/logout', { method: 'POST', body: new FormData() });
      await client.fetch('/doc');
      expect(batches).toHaveLength(2);
    });
  });

  describe('abandoned batches', () => {
    it('cuts a streamed batch once its one unaborted call followed a redirect', async () => {
      const signals: (AbortSignal | undefined)[] = [];
      let push: ((line: string) => void) | undefined;
      const fetch: typeof globalThis.fetch = (_input, init) => {
        signals.push(init?.signal ?? undefined);
        if (signals.length > 1) {
          const { data } = JSON.parse(init?.body as string) as { data: BatchOperation[] };
          return Promise.resolve(Response.json({ data: data.map(ok) }));
        }
        const body = new ReadableStream<Uint8Array>({
          start(controller) {
            push = (line) => controller.enqueue(new TextEncoder().encode(`${line}\n`));
          },
        });
        return Promise.resolve(
          new Response(body, { headers: { 'content-type': 'application/x-ndjson' } }),
        );
      };
      const client = new BatchClient({ endpoint: 'http://api.test/batch', fetch });
      const leaving = new AbortController();
      const a = client.fetch('/a');
      const b = client.fetch('/b', { signal: leaving.signal }).catch((error: unknown) => error);
      while (!push) await nextTurn();
      leaving.abort();
      expect(await b).toMatchObject({ name: 'AbortError' });
      push(
        JSON.stringify({
          index: 0,
          method: 'GET',
          url: '/a',
          code: 302,
          headers: { location: '/c' },
        }),
      );
      expect((await a).url).toBe('http://api.test/c');
      // Only the aborted call waits on the first batch now: before the fix, it ran on.
      expect(signals[0]?.aborted).toBe(true);
    });
  });
});
