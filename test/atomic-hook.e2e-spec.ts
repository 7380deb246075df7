import type { BatchTransactionHook } from 'nestjs-batch';
import { GateModule, Gates } from './fixtures/gate.controller.js';
import { forEachPlatform } from './utils/platforms.js';
import { entries, postBatch, withTestApp } from './utils/test-app.js';
import { readText } from './utils/raw-http.js';

/**
 * What the library does with the hook itself, whatever database is behind it: these hooks are
 * the app's side of the contract, written out, so each way a hook can end is seen. In process,
 * so they run on Nest 11 too.
 */
const group = (n: number, extra: object[] = []): object[] => [
  ...Array.from({ length: n }, (_, i) => ({
    method: 'POST',
    url: '/items',
    atomicityGroup: 'g',
    body: { name: `g${i}` },
  })),
  ...extra,
];

forEachPlatform(() => {
  describe('the transaction hook', () => {
    it('calls the hook once per group, with work that resolves when every member succeeded', async () => {
      const calls: string[] = [];
      const transaction: BatchTransactionHook = async (work) => {
        calls.push('begin');
        await work();
        calls.push('commit');
      };
      await withTestApp({ batch: { transaction } }, async (t) => {
        const response = await postBatch(t, group(3)).expect(200);
        expect(entries(response).map((entry) => entry?.code)).toEqual([201, 201, 201]);
        expect(calls).toEqual(['begin', 'commit']);
      });
    });

    it('reports every member failed (500 transaction-failed) when the commit fails', async () => {
      const transaction: BatchTransactionHook = async (work) => {
        await work();
        throw new Error('commit refused');
      };
      await withTestApp({ batch: { transaction } }, async (t) => {
        const response = await postBatch(t, group(2)).expect(200);
        for (const entry of entries(response)) {
          expect(entry?.code).toBe(500);
          expect(entry?.body).toMatchObject({ reason: 'transaction-failed', atomicityGroup: 'g' });
          expect(entry?.body.message).toMatch(/commit refused/);
        }
      });
    });

    it('reports the group rolled back even when the hook swallows the rejection', async () => {
      const transaction: BatchTransactionHook = async (work) => {
        await work().catch(() => undefined);
      };
      await withTestApp({ batch: { transaction } }, async (t) => {
        const response = await postBatch(t, [
          ...group(1),
          { method: 'GET', url: '/teapot', atomicityGroup: 'g' },
          { method: 'POST', url: '/items', atomicityGroup: 'g', body: { name: 'never' } },
        ]).expect(200);
        const [first, teapot, never] = entries(response);
        expect(teapot?.code).toBe(418);
        expect(first?.body).toMatchObject({ reason: 'rolled-back', failedOperation: 1 });
        expect(first?.body.message).toMatch(/was rolled back/);
        expect(never?.body).toMatchObject({ reason: 'rolled-back', failedOperation: 1 });
        expect(never?.body.message).toMatch(/was not run/);
        const items = await t.http.get('/items').expect(200);
        expect((items.body as { name: string }[]).map((item) => item.name)).not.toContain('never');
      });
    });

    it('answers a long group whose dependency failed without growing the stack', async () => {
      const size = 20_000;
      const transaction: BatchTransactionHook = (work) => work();
      await withTestApp(
        { batch: { transaction, limit: size + 1, maxBodyBytes: 8 << 20 } },
        async (t) => {
          const response = await postBatch(t, [
            { method: 'GET', url: '/teapot', name: 'first' },
            ...Array.from({ length: size }, () => ({
              method: 'GET',
              url: '/items',
              atomicityGroup: 'g',
              dependsOn: ['first'],
            })),
          ]).expect(200);
          const codes = entries(response).map((entry) => entry?.code);
          expect(codes[0]).toBe(418);
          expect(new Set(codes.slice(1))).toEqual(new Set([424]));
          expect(codes).toHaveLength(size + 1);
        },
      );
    });

    it('reports the attempt a retrying hook committed, not an earlier one it rolled back', async () => {
      const attempts: string[] = [];
      // Retries once, as hooks do on a serialization failure.
      const transaction: BatchTransactionHook = async (work) => {
        try {
          await work();
          attempts.push('commit');
        } catch {
          attempts.push('rollback');
          await work();
          attempts.push('commit');
        }
      };
      await withTestApp({ batch: { transaction } }, async (t) => {
        const key = `retry-${Date.now()}`;
        const response = await postBatch(t, [
          ...group(1),
          { method: 'GET', url: `/flaky/${key}`, atomicityGroup: 'g' },
        ]).expect(200);
        expect(attempts).toEqual(['rollback', 'commit']);
        expect(entries(response).map((entry) => entry?.code)).toEqual([201, 200]);
        expect(entries(response)[1]?.body).toEqual({ key });
      });
    });

    it('never counts a hook that did not run the group as a success', async () => {
      const transaction: BatchTransactionHook = () => Promise.resolve();
      await withTestApp({ batch: { transaction } }, async (t) => {
        const response = await postBatch(t, group(1)).expect(200);
        expect(entries(response)[0]?.body).toMatchObject({ reason: 'transaction-failed' });
        expect(entries(response)[0]?.body.message).toMatch(/did not run the group/);
      });
    });

    it('rejects work when the batch times out, so the hook rolls back', async () => {
      let rejected: unknown;
      let settled!: () => void;
      const ended = new Promise<void>((resolve) => (settled = resolve));
      const transaction: BatchTransactionHook = async (work) => {
        try {
          await work();
        } catch (error) {
          rejected = error;
          throw error;
        } finally {
          settled();
        }
      };
      await withTestApp({ batch: { transaction, timeout: 300 } }, async (t) => {
        const response = await postBatch(t, [
          ...group(1),
          // Ends after the cut: work rejects once it has (a handler that never ends keeps the
          // transaction open, as it would outside a batch).
          { method: 'GET', url: '/slow/1000', atomicityGroup: 'g' },
        ]).expect(200);
        expect(entries(response)).toEqual([null, null]);
        await ended;
        expect(String(rejected)).toMatch(/cut off/);
      });
    });

    it('keeps the app-wide group slot of a cut-off group until its hook has settled', async () => {
      const calls: string[] = [];
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let rollingBack!: () => void;
      const inRollback = new Promise<void>((resolve) => (rollingBack = resolve));
      // The first group's rollback waits for the test, as a hook waits for its pool or its
      // ROLLBACK: the app's one group slot must stay taken meanwhile.
      const transaction: BatchTransactionHook = async (work) => {
        const call = calls.filter((name) => name.startsWith('begin')).length + 1;
        calls.push(`begin ${call}`);
        if (call > 1) return work();
        try {
          await work();
        } catch (error) {
          rollingBack();
          await held;
          calls.push('rolled back 1');
          throw error;
        }
      };
      await withTestApp(
        { imports: [GateModule], batch: { transaction, globalGroupConcurrency: 1 } },
        async (t) => {
          const gates = t.app.get(Gates);
          const first = t.http
            .post('/batch')
            .send({ data: [{ method: 'GET', url: '/gate/a', atomicityGroup: 'g' }] });
          const gone = first.then(
            () => undefined,
            () => undefined,
          );
          await gates.arrivals(1);
          first.abort();
          await gone;
          await inRollback;
          // The group comes first: it asks for its slot before the plain operation is dispatched,
          // so once that one reached the app, a free slot would have opened the group already.
          const second = postBatch(t, [
            { method: 'POST', url: '/items', atomicityGroup: 'g', body: { name: 'after' } },
            { method: 'GET', url: '/gate/b' },
          ]).then((response) => response);
          // Heard even when an expectation below fails first and the app closes under it.
          second.catch(() => undefined);
          await gates.arrivals(2);
          expect(calls).toEqual(['begin 1']);
          release();
          gates.releaseOldest();
          gates.releaseOldest();
          expect(entries(await second).map((entry) => entry?.code)).toEqual([201, 200]);
          expect(calls).toEqual(['begin 1', 'rolled back 1', 'begin 2']);
        },
      );
    });

    it('refuses a group without a hook, before anything runs', async () => {
      await withTestApp({}, async (t) => {
        const response = await postBatch(t, group(1)).expect(400);
        expect(response.body).toMatchObject({ reason: 'atomic-groups-unavailable' });
        expect(t.recorder.count('items.create')).toBe(0);
      });
    });
  });
});

forEachPlatform(() => {
  describe('atomic groups in a streamed (NDJSON) reply', () => {
    it('writes the lines of a group only once it ended: a rolled-back write never shows as done', async () => {
      const transaction: BatchTransactionHook = (work) => work();
      await withTestApp({ batch: { transaction } }, async (t) => {
        const response = await t.http
          .post('/batch')
          .set('accept', 'application/x-ndjson')
          .send({
            data: [
              { method: 'POST', url: '/items', atomicityGroup: 'g', body: { name: 'a' } },
              { method: 'GET', url: '/slow/100', atomicityGroup: 'g' },
              { method: 'GET', url: '/teapot', atomicityGroup: 'g' },
            ],
          })
          .buffer(true)
          .parse(readText)
          .expect(200);
        const lines = String(response.body)
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line) as { index: number; code: number; body?: any });
        expect(lines.map((line) => [line.index, line.code])).toEqual([
          [0, 424],
          [1, 424],
          [2, 418],
        ]);
        expect(lines[0]?.body).toMatchObject({ reason: 'rolled-back' });
      });
    });
  });
});
