/**
 * `client.fetch` against Node's own fetch on the same routes: every way a call can end (a
 * response destroyed after its headers, a signal aborted after them, redirects followed,
 * refused, left manual or leading to another origin) must look the same to the caller.
 */
import { BatchClient } from 'nestjs-batch/client';
import { getEventListeners } from 'node:events';
import { createServer, type Server } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { AddressInfo } from 'node:net';
import { elsewhere, FetchFidelityModule } from './fixtures/fetch-fidelity.fixtures.js';
import { forEachPlatform } from './utils/platforms.js';
import { endpointOf, useTestApp } from './utils/test-app.js';

setFlagsFromString('--expose-gc');
/** A full collection, with `--expose-gc` turned on for this process above. */
const collectGarbage = runInNewContext('gc') as () => void;

const listenersOf = (signal: AbortSignal): number => getEventListeners(signal, 'abort').length;

/** What a caller sees of a call: how it settled, and what reading its body gave. */
interface Seen {
  status?: number;
  statusText?: string;
  type?: string;
  redirected?: boolean;
  url?: string;
  headers?: Record<string, string | null>;
  body?: unknown;
  /** The name of the error the call or its body read rejected with. */
  rejected?: string;
  readRejected?: string;
}

async function seen(
  call: () => Promise<Response>,
  read: (r: Response) => Promise<unknown> = (r) => r.text(),
): Promise<Seen> {
  let response: Response;
  try {
    response = await call();
  } catch (error) {
    return { rejected: (error as Error).name };
  }
  const out: Seen = {
    status: response.status,
    statusText: response.statusText,
    type: response.type,
    redirected: response.redirected,
    url: response.url,
    headers: {
      'content-type': response.headers.get('content-type'),
      'x-kept': response.headers.get('x-kept'),
      location: response.headers.get('location'),
    },
  };
  try {
    const text = await read(response);
    out.body = typeof text === 'string' && text.startsWith('{') ? JSON.parse(text) : text;
  } catch (error) {
    out.readRejected = (error as Error).name;
  }
  return out;
}

/** What a call cut after its headers shows: the head the app sent, and a body whose read fails. */
const headThenFailedRead = (direct: Response): object => ({
  status: direct.status,
  url: direct.url,
  headers: {
    'content-type': direct.headers.get('content-type'),
    'x-kept': direct.headers.get('x-kept'),
  },
  readRejected: 'TypeError',
});

forEachPlatform(() => {
  describe('client.fetch, compared with a direct fetch on the same route', () => {
    let other: Server;
    beforeAll(async () => {
      other = createServer((request, response) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        const { cookie, authorization } = request.headers;
        const proxy = request.headers['proxy-authorization'];
        response.end(
          JSON.stringify({ there: request.method, url: request.url, cookie, authorization, proxy }),
        );
      });
      await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
      elsewhere.origin = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise((resolve) => other.close(resolve)));

    const t = useTestApp({ imports: [FetchFidelityModule] });
    const url = (path: string): string => endpointOf(t, path);
    const client = (): BatchClient => new BatchClient({ endpoint: endpointOf(t) });
    const batchRequests = (): number => t.recorder.count('middleware POST /batch');
    /** Both ways, the same call: what a direct fetch saw and what client.fetch saw. */
    const both = async (
      path: string,
      init?: RequestInit,
      read?: (r: Response) => Promise<unknown>,
    ): Promise<{ direct: Seen; batched: Seen }> => ({
      direct: await seen(() => fetch(url(path), init), read),
      batched: await seen(() => client().fetch(path, init), read),
    });

    it('gives a body sent with no Content-Type none, and the same type of Response', async () => {
      const { direct, batched } = await both('/fidelity/untyped');
      expect(direct).toMatchObject({ status: 200, type: 'basic', body: 'no type' });
      expect(direct.headers?.['content-type']).toBeNull();
      expect(batched).toEqual(direct);
    });

    it("resolves a status past 599 as Node's fetch does, and its batch's other calls", async () => {
      const { direct, batched } = await both('/fidelity/status-600');
      expect(direct).toMatchObject({ status: 600, body: 'odd' });
      expect(batched).toEqual(direct);
      const batch = client();
      const [odd, other] = await Promise.all([
        seen(() => batch.fetch('/fidelity/status-600')),
        seen(() => batch.fetch('/fidelity/untyped')),
      ]);
      expect(odd).toEqual(direct);
      expect(other).toMatchObject({ status: 200, body: 'no type' });
    });

    describe('a response destroyed after its headers', () => {
      it('resolves with the status and headers the app sent; reading the body rejects with a TypeError', async () => {
        const { direct, batched } = await both('/fidelity/dropped');
        expect(direct).toMatchObject({ status: 207, readRejected: 'TypeError' });
        expect(direct.headers?.['x-kept']).toBe('yes');
        expect(batched).toEqual(direct);
      });

      it('errors the body stream of a clone too, and leaves the body used', async () => {
        const streamed = async (response: Response): Promise<unknown> => {
          const reader = response.clone().body!.getReader();
          let stream = 'ended';
          try {
            while (!(await reader.read()).done);
          } catch (error) {
            stream = (error as Error).name;
          }
          let text = 'read';
          try {
            await response.text();
          } catch (error) {
            text = (error as Error).name;
          }
          return { stream, text, bodyUsed: response.bodyUsed };
        };
        const { direct, batched } = await both('/fidelity/dropped', undefined, streamed);
        expect(direct.body).toEqual({ stream: 'TypeError', text: 'TypeError', bodyUsed: true });
        expect(batched).toEqual(direct);
      });
    });

    it("never shows a Set-Cookie, as a browser's fetch (Node's own shows it)", async () => {
      const direct = await fetch(url('/fidelity/dropped'));
      const batched = await client().fetch('/fidelity/dropped');
      expect(direct.headers.getSetCookie()).toEqual(['dropped=1; Path=/; HttpOnly']);
      expect(batched.headers.getSetCookie()).toEqual([]);
      await Promise.allSettled([direct.text(), batched.text()]);
    });

    it('rejects with a TypeError when the response is destroyed before its headers', async () => {
      const { direct, batched } = await both('/fidelity/refused');
      expect(direct).toEqual({ rejected: 'TypeError' });
      expect(batched).toEqual(direct);
    });

    describe('a response cut off by operationTimeout after its headers', () => {
      const timed = useTestApp({
        imports: [FetchFidelityModule],
        batch: { operationTimeout: 200 },
      });

      it('resolves with what the app sent; reading the body rejects with a TypeError', async () => {
        // Directly, the body never ends: the call resolves with the headers, as batched.
        const controller = new AbortController();
        const direct = await fetch(endpointOf(timed, '/fidelity/stalled'), {
          signal: controller.signal,
        });
        controller.abort();
        const batched = await seen(() =>
          new BatchClient({ endpoint: endpointOf(timed) }).fetch('/fidelity/stalled'),
        );
        expect(batched).toMatchObject(headThenFailedRead(direct));
      });
    });

    describe('a call that asks for an event stream', () => {
      it('resolves as its headers arrive and reads the first event while the app holds the rest, as fetch does', async () => {
        const init = { headers: { accept: 'text/event-stream' } };
        const first = async (call: Promise<Response>): Promise<unknown> => {
          const response = await call;
          const reader = (response.body as ReadableStream<Uint8Array>).getReader();
          const { value } = await reader.read();
          await reader.cancel();
          return { status: response.status, first: new TextDecoder().decode(value) };
        };
        // The stream never ends: a call held to its end would wait for the batch timeout.
        const held = new Promise((resolve) => setTimeout(() => resolve('held'), 3000).unref());
        const direct = await first(fetch(url('/fidelity/stalled'), init));
        const batching = client();
        const [batched, beside] = await Promise.all([
          Promise.race([first(batching.fetch('/fidelity/stalled', init)), held]),
          Promise.race([batching.fetch('/fidelity/untyped').then((r) => r.text()), held]),
        ]);
        expect(batched).toEqual(direct);
        expect(beside).toBe('no type');
      });
    });

    describe('a response cut at maxResponseBytes after its headers', () => {
      const capped = useTestApp({
        imports: [FetchFidelityModule],
        batch: { maxResponseBytes: 4096 },
      });

      it('resolves with what the app sent; reading the body rejects with a TypeError', async () => {
        // Directly, with no such cap, the whole body arrives; a gateway with one cuts the
        // connection after the headers, and the body's read fails, as batched.
        const direct = await fetch(endpointOf(capped, '/fidelity/large'));
        expect((await direct.text()).length).toBe(64 * 1024);
        const batched = await seen(() =>
          new BatchClient({ endpoint: endpointOf(capped) }).fetch('/fidelity/large'),
        );
        expect(batched).toMatchObject(headThenFailedRead(direct));
      });
    });

    describe('a signal aborted after the headers', () => {
      it('rejects the body read with the AbortError, as fetch does', async () => {
        const call = async (send: (signal: AbortSignal) => Promise<Response>): Promise<Seen> => {
          const controller = new AbortController();
          return seen(
            () => send(controller.signal),
            (response) => {
              controller.abort();
              return response.text();
            },
          );
        };
        const direct = await call((signal) => fetch(url('/fidelity/echo'), { signal }));
        const batched = await call((signal) => client().fetch('/fidelity/echo', { signal }));
        expect(direct).toMatchObject({ status: 200, readRejected: 'AbortError' });
        expect(batched).toEqual(direct);
      });

      it('holds no abort listener of a response dropped unread, as fetch does', async () => {
        // A page's one signal for all its calls: a response nobody reads, once collected, must
        // leave nothing on it (a listener would keep the response's body for the signal's life).
        const listening = async (send: (signal: AbortSignal) => Promise<Response>) => {
          const controller = new AbortController();
          for (let i = 0; i < 20; i++) {
            const response = await send(controller.signal);
            expect(response.status).toBe(200);
          }
          for (let turn = 0; turn < 20 && listenersOf(controller.signal) > 1; turn++) {
            collectGarbage();
            await new Promise((resolve) => setTimeout(resolve, 10));
          }
          return listenersOf(controller.signal);
        };
        const direct = await listening((signal) => fetch(url('/fidelity/echo'), { signal }));
        const batched = await listening((signal) => client().fetch('/fidelity/echo', { signal }));
        // fetch lets go of all of them, or all but the last one (undici may still hold it).
        expect(direct).toBeLessThanOrEqual(1);
        expect(batched).toBeLessThanOrEqual(1);
      });

      it('leaves a body already read alone', async () => {
        const controller = new AbortController();
        const response = await client().fetch('/fidelity/echo', { signal: controller.signal });
        const text = await response.text();
        controller.abort();
        expect(JSON.parse(text)).toMatchObject({ method: 'GET' });
      });
    });

    describe('redirects', () => {
      const json = { 'content-type': 'application/json' };
      it.each([301, 302, 303, 307, 308])(
        'follows a %i after a POST as fetch does (method, body, redirected, url)',
        async (code) => {
          const init = { method: 'POST', headers: json, body: '{"n":1}' };
          const { direct, batched } = await both(`/fidelity/redirect/${code}`, init);
          expect(direct).toMatchObject({ status: 200, redirected: true });
          expect(direct.url).toBe(url('/fidelity/echo?from=redirect'));
          expect(batched).toEqual(direct);
        },
      );

      it('follows a redirect of a GET with its headers, in the next batch request', async () => {
        const init = { headers: { 'x-custom': 'kept' } };
        const before = batchRequests();
        const { batched } = await both('/fidelity/redirect/302', init);
        expect(batchRequests() - before).toBe(2);
        expect(batched).toMatchObject({ status: 200, body: { method: 'GET', custom: 'kept' } });
        expect((await both('/fidelity/redirect/302', init)).direct).toEqual(batched);
      });

      it('follows a Location that reads as a reference to the url it names, reference unread', async () => {
        const to = '/fidelity/echo?from={result=other:$.method}';
        const path = `/fidelity/redirect/302?to=${encodeURIComponent(to)}`;
        const { direct, batched } = await both(path);
        expect(direct).toMatchObject({ status: 200, body: { from: '{result=other:$.method}' } });
        expect(batched).toEqual(direct);
        // In a batch with an operation of that name, still the url as written.
        const batch = client();
        const [, redirected] = await Promise.all([
          seen(() => batch.fetch('/fidelity/echo', { name: 'other' } as RequestInit)),
          seen(() => batch.fetch(path)),
        ]);
        expect(redirected).toEqual(direct);
      });

      it('follows up to 20 redirects and rejects with a TypeError past them', async () => {
        const twenty = await both('/fidelity/chain/20');
        expect(twenty.direct).toMatchObject({ status: 200, redirected: true });
        expect(twenty.batched).toEqual(twenty.direct);
        const more = await both('/fidelity/chain/21');
        expect(more.direct).toEqual({ rejected: 'TypeError' });
        expect(more.batched).toEqual(more.direct);
      });

      it("rejects with a TypeError with redirect: 'error'", async () => {
        const { direct, batched } = await both('/fidelity/redirect/302', { redirect: 'error' });
        expect(direct).toEqual({ rejected: 'TypeError' });
        expect(batched).toEqual(direct);
      });

      it("gives the redirect itself with redirect: 'manual', as Node's fetch does", async () => {
        const { direct, batched } = await both('/fidelity/redirect/307', { redirect: 'manual' });
        expect(direct).toMatchObject({ status: 307, redirected: false });
        expect(direct.headers?.location).toBe('/fidelity/echo?from=redirect');
        expect(batched).toEqual(direct);
      });

      it('follows a redirect to another origin with a direct fetch of the same request', async () => {
        const init = { method: 'PUT', headers: json, body: '{"n":2}' };
        const { direct, batched } = await both('/fidelity/away', init);
        expect(direct).toMatchObject({ status: 200, redirected: true, body: { there: 'PUT' } });
        expect(direct.url).toBe(`${elsewhere.origin}/there?from=away`);
        expect(batched).toEqual(direct);
      });

      it('sends another origin none of the credentials a redirect to it drops', async () => {
        const headers = {
          authorization: 'Bearer secret',
          cookie: 'session=secret',
          'proxy-authorization': 'Basic secret',
        };
        const { direct, batched } = await both('/fidelity/away', { headers });
        expect(direct).toMatchObject({ status: 200, body: { there: 'GET' } });
        expect(direct.body).not.toHaveProperty('cookie');
        expect(batched).toEqual(direct);
      });
    });
  });
});
