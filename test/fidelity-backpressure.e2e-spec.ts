/**
 * Back-pressure on an operation's response, as on a direct request: a response's `write()`
 * returns false once the connection's buffer is past its high-water mark, `pipe`/`pipeline`
 * pause the source until 'drain', and the event loop serves other requests and timers while the
 * client reads. Before the fix, an operation's connection took every write at once and `write()`
 * always returned true: a source that produces synchronously (a Readable whose read() pushes at
 * once: Readable.from over rows in memory, a stringifier, a generated download) ran to its end in
 * one turn of the event loop, and an endless one held the process for ever.
 */
import { Controller, Get, Module, Param, Res } from '@nestjs/common';
import { Readable } from 'node:stream';
import { startChildApp } from './utils/child-app.js';
import { forEachPlatform } from './utils/platforms.js';
import { takeOverResponse } from './utils/node-response.js';
import { entries, postBatch, useTestApp } from './utils/test-app.js';

const CHUNK = Buffer.alloc(64 * 1024, 'x');

/** `chunks` x 64 KiB, pushed synchronously until the reader says stop. */
function syncSource(chunks: number): Readable {
  let left = chunks;
  return new Readable({
    read() {
      while (left > 0) {
        left--;
        if (!this.push(CHUNK)) return;
      }
      this.push(null);
    },
  });
}

const seen: { writesBeforeFalse?: number; turns?: number } = {};

@Controller('bp')
class BackPressureController {
  /** Writes 64 KiB chunks while write() returns true, at most 32 (2 MiB): how many went? */
  @Get('writes')
  writes(@Res() reply: object): void {
    const res = takeOverResponse(reply);
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    let i = 0;
    while (i < 32 && res.write(CHUNK)) i++;
    seen.writesBeforeFalse = i;
    res.end();
  }

  /**
   * Pipes `n` x 64 KiB produced synchronously and counts the turns of the event loop
   * (setImmediate) while the body is sent: other requests and timers run in those turns.
   */
  @Get('turns/:n')
  turns(@Param('n') n: string, @Res() reply: object): void {
    const res = takeOverResponse(reply);
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    let turns = 0;
    let done = false;
    const tick = (): void => {
      if (done) return;
      turns++;
      setImmediate(tick);
    };
    setImmediate(tick);
    res.on('close', () => {
      done = true;
      seen.turns = turns;
    });
    syncSource(Number(n)).pipe(res);
  }
}

@Module({ controllers: [BackPressureController] })
class BackPressureModule {}

const drain = (res: import('superagent').Response, done: (e: Error | null, n: number) => void) => {
  let n = 0;
  res.on('data', (chunk: Buffer) => (n += chunk.length));
  res.on('end', () => done(null, n));
};

forEachPlatform((platform) => {
  describe('back-pressure on an operation response', () => {
    const t = useTestApp({
      imports: [BackPressureModule],
      batch: { maxResponseBytes: 1024 * 1024, timeout: 60_000 },
    });

    it('write() returns false once the connection is full, as directly', async () => {
      Object.assign(seen, { writesBeforeFalse: undefined });
      await t.http.get('/bp/writes').buffer(true).parse(drain).expect(200);
      const direct = seen.writesBeforeFalse;
      Object.assign(seen, { writesBeforeFalse: undefined });
      await postBatch(t, [{ method: 'GET', url: '/bp/writes' }]).expect(200);
      const batched = seen.writesBeforeFalse;
      // Directly a 64 KiB write is at or past the high-water mark (16 KiB on Node 20, 64 from 22).
      expect(direct).toBeLessThan(32);
      expect(batched).toBe(direct);
    });

    it('a large body produced synchronously leaves the event loop turning while it is sent, as directly', async () => {
      // 64 MiB: more than loopback's socket buffers take at once.
      Object.assign(seen, { turns: undefined });
      await t.http.get('/bp/turns/1024').buffer(true).parse(drain).expect(200);
      const direct = seen.turns ?? -1;
      Object.assign(seen, { turns: undefined });
      const response = await postBatch(t, [{ method: 'GET', url: '/bp/turns/1024' }]).expect(200);
      // Past maxResponseBytes: the entry is a 502 either way; what matters is the app's side.
      expect(entries(response)[0]?.code).toBe(502);
      const batched = seen.turns ?? -1;
      expect(direct).toBeGreaterThan(0);
      // Before the fix, the whole 64 MiB went in one turn: nothing else ran meanwhile.
      expect(batched).toBeGreaterThan(0);
    });
  });

  describe('an endless body produced synchronously (in a process of its own)', () => {
    // Piped from a source that pushes at once; written by a writer that waits for each write's
    // callback (before its fix, the callbacks came on the next tick however much was pending).
    it.each(['/endless', '/endless-awaited'])(
      '%s leaves the server answering other requests, and ends at maxResponseBytes',
      async (route) => {
        const app = await startChildApp('endless-app.mjs', platform);
        try {
          // Directly: the client reads 1 MiB and goes; the server answers the next request.
          const aborter = new AbortController();
          const direct = await fetch(`${app.base}${route}`, { signal: aborter.signal });
          const reader = direct.body!.getReader();
          let read = 0;
          while (read < 1 << 20) {
            const { value } = await reader.read();
            read += (value as Uint8Array | undefined)?.length ?? 0;
          }
          aborter.abort();
          const pingDirect = await fetch(`${app.base}/ping`, { signal: AbortSignal.timeout(3000) });
          expect(await pingDirect.json()).toEqual({ pong: true });

          // Batched: the server answers other requests meanwhile.
          const batch = fetch(`${app.base}/batch`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ data: [{ method: 'GET', url: route }] }),
            signal: AbortSignal.timeout(5000),
          }).then(
            async (r) => ({
              status: r.status,
              body: (await r.json()) as { data: { code: number }[] },
            }),
            (error: unknown) => ({ status: 0, error: String(error) }),
          );
          await new Promise((resolve) => setTimeout(resolve, 200));
          const ping = await fetch(`${app.base}/ping`, { signal: AbortSignal.timeout(3000) }).then(
            (r) => r.status,
            (error: unknown) => String(error),
          );
          expect(ping).toBe(200);
          const answered = await batch;
          // Ended at maxResponseBytes (a 502), as the endless stream passed it, well before the
          // operation's timeout; before the fix neither ever came.
          expect(answered).toMatchObject({
            status: 200,
            body: { data: [{ code: 502, body: { reason: 'response-too-large' } }] },
          });
        } finally {
          // SIGTERM cannot reach an app whose event loop never turns (before the fix).
          await app.stop('SIGKILL');
        }
      },
      30_000,
    );
  });
});
