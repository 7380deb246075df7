import type { AddressInfo } from 'node:net';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { useTestApp, withTestApp, type TestApp } from './utils/test-app.js';
import { BatchEnds, BatchEndsModule, until } from './utils/wait-for.js';
import { GateModule, Gates } from './fixtures/gate.controller.js';
import { forEachPlatform } from './utils/platforms.js';

forEachPlatform(() => {
  interface Line {
    index: number;
    code?: number;
    entry?: null;
    body?: any;
  }

  /** Opens a streamed batch; the caller reads (or does not read) the response. */
  function openStream(
    t: TestApp,
    data: object[],
    accept = 'application/x-ndjson',
  ): Promise<{ response: IncomingMessage; abort: () => void }> {
    const { port } = t.app.getHttpServer().address() as AddressInfo;
    const payload = JSON.stringify({ data });
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/batch',
          headers: { 'content-type': 'application/json', accept },
        },
        (response) => resolve({ response, abort: () => req.destroy() }),
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Reads every line into `lines`, each as it arrives; resolves with all of them at the end. */
  async function readLines(response: IncomingMessage, lines: Line[] = []): Promise<Line[]> {
    let buffered = '';
    for await (const chunk of response) {
      buffered += String(chunk);
      let newline;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        lines.push(JSON.parse(buffered.slice(0, newline)) as Line);
        buffered = buffered.slice(newline + 1);
      }
    }
    expect(buffered).toBe('');
    return lines;
  }

  describe('Accept: application/x-ndjson streams a line per operation as it finishes', () => {
    const t = useTestApp({ batch: { timeout: 1_000 } });

    it('writes each line when its operation finishes, a fast one before a slow one', async () => {
      // Its own app: the slow operation waits at a gate for as long as the test takes to read.
      await withTestApp({ imports: [GateModule] }, async (app) => {
        const gates = app.app.get(Gates);
        const seen: Line[] = [];
        // The reply's head may come with its first line: not awaited before the lines are.
        const streamed = openStream(app, [
          { method: 'GET', url: '/gate/slow' },
          { method: 'GET', url: '/echo' },
          { method: 'GET', url: '/teapot' },
        ]).then(async ({ response }) => ({ response, lines: await readLines(response, seen) }));
        // Awaited below; should an assertion fail first, the app's close resets it unheard.
        streamed.catch(() => undefined);
        // The two fast lines reach the client while the slow operation is still held, in no
        // defined order between them.
        await until(() => seen.length === 2, 'two entries seen');
        expect(seen.map(({ index }) => index).sort()).toEqual([1, 2]);
        expect(gates.arrived).toEqual(['slow']);
        expect(gates.passed).toEqual([]);
        gates.releaseOldest();
        const { response, lines } = await streamed;
        expect(response.statusCode).toBe(200);
        expect(response.headers['content-type']).toBe('application/x-ndjson');
        expect(lines.map(({ index }) => index)[2]).toBe(0);
        const code = new Map(lines.map(({ index, code }) => [index, code]));
        expect([code.get(0), code.get(1), code.get(2)]).toEqual([200, 200, 418]);
        expect(lines[2]?.body).toEqual({ tag: 'slow' });
      });
    });

    it('ends at the timeout with a null line for each unfinished operation', async () => {
      const { response } = await openStream(t, [
        { method: 'GET', url: '/hang' },
        { method: 'GET', url: '/echo' },
      ]);
      const lines = await readLines(response);
      expect(lines).toEqual([
        expect.objectContaining({ index: 1, code: 200 }),
        { index: 0, entry: null },
      ]);
    });

    it('writes omitted successes as null lines too', async () => {
      const { response } = await openStream(t, [
        { method: 'GET', url: '/echo', omitResponseOnSuccess: true },
      ]);
      expect(await readLines(response)).toEqual([{ index: 0, entry: null }]);
    });

    it('still refuses a batch that cannot be planned with 400 and a JSON body', async () => {
      const { response } = await openStream(t, [
        { method: 'GET', url: '/echo', name: 'a', dependsOn: ['a'] },
      ]);
      expect(response.statusCode).toBe(400);
      expect(response.headers['content-type']).toMatch(/application\/json/);
      response.resume();
    });

    it('answers JSON when NDJSON is refused (q=0)', async () => {
      const { response } = await openStream(
        t,
        [{ method: 'GET', url: '/echo' }],
        'application/x-ndjson;q=0, application/json',
      );
      expect(response.headers['content-type']).toMatch(/application\/json/);
      response.resume();
    });
  });

  describe('back-pressure and disconnects while streaming', () => {
    const t = useTestApp({ batch: { concurrency: 2, limit: 100 } });

    const big = Array.from({ length: 100 }, () => ({ method: 'GET', url: '/big/200000' }));

    it('starts no new operation while the client is not reading, and finishes once it reads', async () => {
      const { response } = await openStream(t, big);
      response.pause();
      // Until the buffers are full and the count stops rising (a whole second without a start).
      let whilePaused = -1;
      for (let looks = 0; looks < 30 && t.recorder.count('big') !== whilePaused; looks++) {
        whilePaused = t.recorder.count('big');
        await sleep(1_000);
      }
      // The socket and stream buffers take some lines; far from all 100 (20 MB) of them.
      expect(whilePaused).toBeLessThan(50);
      // A window in which nothing may start, generous for a loaded machine.
      await sleep(1_000);
      expect(t.recorder.count('big')).toBe(whilePaused);
      const lines = await readLines(response);
      expect(lines).toHaveLength(100);
      expect(t.recorder.count('big')).toBe(100);
    });

    it('stops the operations not yet started when the client disconnects', async () => {
      await withTestApp(
        { batch: { concurrency: 2, limit: 100 }, imports: [BatchEndsModule, GateModule] },
        async (t) => {
          const ends = t.app.get(BatchEnds);
          const gates = t.app.get(Gates);
          const { port } = t.app.getHttpServer().address() as AddressInfo;
          const req = httpRequest({
            host: '127.0.0.1',
            port,
            method: 'POST',
            path: '/batch',
            headers: { 'content-type': 'application/json', accept: 'application/x-ndjson' },
          });
          req.on('error', () => undefined);
          req.end(
            JSON.stringify({
              data: [
                { method: 'GET', url: '/gate/a' },
                { method: 'GET', url: '/gate/b' },
                ...Array.from({ length: 5 }, () => ({ method: 'GET', url: '/echo' })),
              ],
            }),
          );
          // Both held at their gate until the test opens it: the client leaves while they run.
          await gates.arrivals(2);
          req.destroy();
          // The batch ended there, none of its seven answered: the five `/echo` were queued.
          expect(await ends.next()).toMatchObject({ end: 'aborted', finished: 0, unfinished: 7 });
          // Once both abandoned operations returned, their slots are free: a queue that had
          // not stopped would start `/echo` then. A request of its own after that, the only one.
          gates.releaseOldest();
          gates.releaseOldest();
          await until(() => gates.passed.length === 2, 'two gates passed');
          expect(gates.passed).toHaveLength(2);
          await t.http.get('/echo').expect(200);
          expect(t.recorder.count('echo')).toBe(1);
        },
      );
    });
  });
});
