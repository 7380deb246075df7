import type { Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestApp, entries, postBatch, useTestApp, type TestApp } from './utils/test-app.js';
import { forEachPlatform } from './utils/platforms.js';

/**
 * The reply has a total cap (without one, 50 operations of 5 MiB make a 244 MiB reply in memory),
 * and a client that never reads its reply cannot hold it for as long as it likes.
 */
forEachPlatform(() => {
  const MiB = 1024 * 1024;

  function serverOf(t: TestApp): Server {
    return t.app.getHttpServer() as Server;
  }

  function codesOf(list: ({ code: number } | null)[]): number[] {
    return list.map((entry) => entry?.code ?? 0).sort((a, b) => a - b);
  }

  describe('maxReplyBytes caps the whole reply', () => {
    const t = useTestApp({ batch: { maxReplyBytes: 100_000 } });
    const batch = Array.from({ length: 5 }, () => ({ method: 'GET', url: '/big/30000' }));

    it('answers 502 for the entries past the cap, naming it; the others are whole', async () => {
      const response = await postBatch(t, batch).expect(200);
      const list = entries(response);
      expect(codesOf(list)).toEqual([200, 200, 200, 502, 502]);
      for (const entry of list) {
        if (entry?.code === 200) expect(entry.body).toHaveLength(30_000);
        else {
          expect(entry?.body).toMatchObject({
            statusCode: 502,
            message: expect.stringMatching(
              /^operation \d answered 200, but its response would take the batch reply past maxReplyBytes \(100000 bytes\)$/,
            ),
          });
        }
      }
      // The operations ran; only their responses were left out.
      expect(t.recorder.count('big')).toBe(5);
    });

    it('holds for the streamed (NDJSON) reply too', async () => {
      const response = await postBatch(t, batch, { accept: 'application/x-ndjson' })
        .buffer(true)
        .parse((res, done) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => done(null, text));
        })
        .expect(200);
      const lines = (response.body as string)
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { code: number });
      expect(codesOf(lines)).toEqual([200, 200, 200, 502, 502]);
    });

    it('fails the dependents of an entry it left out with 424', async () => {
      const response = await postBatch(t, [
        ...batch.slice(0, 4).map((operation, index) => ({ ...operation, name: `b${index}` })),
        { method: 'GET', url: '/echo', dependsOn: ['b0', 'b1', 'b2', 'b3'] },
      ]).expect(200);
      expect(entries(response)[4]?.code).toBe(424);
    });
  });

  describe('the default cap', () => {
    const t = useTestApp();

    it('is 16 MiB: eight responses of 4 MB (each under maxResponseBytes) make no 32 MB reply', async () => {
      const response = await postBatch(
        t,
        Array.from({ length: 8 }, () => ({ method: 'GET', url: '/big/4000000' })),
      ).expect(200);
      const list = entries(response);
      expect(codesOf(list)).toEqual([200, 200, 200, 200, 502, 502, 502, 502]);
      expect(list.find((entry) => entry?.code === 502)?.body.message).toMatch(
        /maxReplyBytes \(16777216 bytes\)/,
      );
      expect(Number(response.headers['content-length'])).toBeLessThan(17 * MiB);
    });
  });

  describe('replyWriteTimeout ends a reply the client does not read', () => {
    // Big enough to fill the loopback socket buffers many times over, so the write must stall.
    const options = { replyWriteTimeout: 1_000, maxReplyBytes: 64 * MiB };
    const t = useTestApp({ batch: options });
    const big = Array.from({ length: 10 }, () => ({ method: 'GET', url: '/big/4000000' }));

    /** Sends a batch on a raw socket and never reads a byte of the reply. */
    function sendAndNeverRead(headers: Record<string, string> = {}): Socket {
      const { port } = serverOf(t).address() as AddressInfo;
      const body = JSON.stringify({ data: big });
      const socket = connect(port, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.pause();
      const head = Object.entries({
        host: `127.0.0.1:${port}`,
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
        ...headers,
      })
        .map(([name, value]) => `${name}: ${value}\r\n`)
        .join('');
      socket.write(`POST /batch HTTP/1.1\r\n${head}\r\n${body}`);
      return socket;
    }

    function openConnections(): Promise<number> {
      return new Promise<number>((resolve, reject) =>
        serverOf(t).getConnections((error, count) => (error ? reject(error) : resolve(count))),
      );
    }

    /**
     * Resolves true once the server has taken the batch in and then let go of its connection,
     * false if it still holds it at `within` ms.
     */
    async function serverLetGo(within: number): Promise<boolean> {
      const deadline = Date.now() + within;
      while (t.recorder.count('big') === 0 && Date.now() < deadline) await sleep(20);
      for (;;) {
        if ((await openConnections()) === 0) return true;
        if (Date.now() > deadline) return false;
        await sleep(50);
      }
    }

    it('destroys the connection once the write has stalled past the timeout', async () => {
      const socket = sendAndNeverRead();
      try {
        // The batch itself takes a few hundred ms; the bound is generous for a loaded machine.
        expect(await serverLetGo(8_000)).toBe(true);
        expect(t.recorder.count('big')).toBe(10);
      } finally {
        socket.destroy();
      }
    });

    it('destroys a streamed reply that stalls, and starts no more operations', async () => {
      const socket = sendAndNeverRead({ accept: 'application/x-ndjson' });
      try {
        expect(await serverLetGo(8_000)).toBe(true);
        const ran = t.recorder.count('big');
        expect(ran).toBeLessThan(10);
        // A window in which nothing may start, generous for a loaded machine.
        await sleep(1_000);
        expect(t.recorder.count('big')).toBe(ran);
      } finally {
        socket.destroy();
      }
    });

    it('leaves a client that reads alone', async () => {
      // A JSON reply is one write, which must be done within the timeout: 2 MB, read at once.
      const batch = Array.from({ length: 4 }, () => ({ method: 'GET', url: '/big/500000' }));
      const response = await postBatch(t, batch).expect(200);
      expect(codesOf(entries(response))).toEqual([200, 200, 200, 200]);
    });
  });

  it.each([
    [{ maxReplyBytes: -1 }, /maxReplyBytes must be an integer >= 0, got -1/],
    [
      { replyWriteTimeout: 1.5 },
      /replyWriteTimeout must be an integer from 0 to 2147483647, got 1.5/,
    ],
  ])('refuses %j at bootstrap, naming the option', async (batch, message) => {
    await expect(createTestApp({ batch })).rejects.toThrow(message);
  });
});
