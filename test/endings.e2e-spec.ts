/**
 * However a response ends, its operation ends with it: each ending reached directly (real HTTP
 * over loopback) and as an operation, on both adapters. What the direct client sees (a complete
 * answer, or a connection dropped before or after the headers) and what the entry says must agree.
 * The batch `timeout` is far beyond Jest's: a batch that waited on an operation fails the test
 * by Jest's timeout, and the entries must be the library's aborted entry, never a timeout `null`.
 */
import type { BatchTransactionHook } from 'nestjs-batch';
import { EndingsModule } from './fixtures/endings.controller.js';
import { direct, expectedOf, viewOf, bodyText } from './utils/direct-view.js';
import { forEachPlatform } from './utils/platforms.js';
import { baseOf } from './utils/raw-http.js';
import { entries, postBatch, useTestApp, withTestApp } from './utils/test-app.js';

const ENDINGS = [
  'complete',
  'destroy-before-headers',
  'destroy-after-headers',
  'socket-error',
  'socket-closed',
  'throw-after-headers',
  'stream-error',
  'streamable-error',
];

/**
 * Over HTTP/2 (`BATCH_E2E_HTTP2=1`), Node's compatibility layer closes a stream whose response
 * is destroyed without an error with NO_ERROR: the client sees it end as if complete, and has
 * no Content-Length to tell. The operation, dispatched as HTTP/1.1, reports what happened.
 */
const COMPLETE_OVER_HTTP2 = new Set(['destroy-after-headers', 'streamable-error']);

/** Long enough that waiting for it fails the test by Jest's timeout first. */
const NEVER = 60_000;

forEachPlatform((platform) => {
  describe('each ending, directly and as an operation', () => {
    const t = useTestApp({ batch: { timeout: NEVER }, imports: [EndingsModule] });

    it.each(ENDINGS)('%s', async (ending) => {
      const url = `/endings/${ending}`;
      const seen = await direct(baseOf(t), url, platform.http2);
      const response = await postBatch(t, [
        { method: 'GET', url },
        { method: 'GET', url: '/endings/complete' },
      ]).expect(200);
      const [entry, other] = entries(response);
      if (platform.http2 && COMPLETE_OVER_HTTP2.has(ending)) {
        expect(seen.kind).toBe('complete');
        expect(viewOf(entry ?? null)).toBe('dropped');
        return;
      }
      expect(viewOf(entry ?? null)).toBe(expectedOf(seen));
      if (seen.kind === 'complete' && entry) expect(bodyText(entry)).toBe(seen.body);
      if (seen.kind !== 'complete') {
        expect(entry).toMatchObject({
          code: 502,
          body: { statusCode: 502, error: 'Bad Gateway', reason: 'response-aborted' },
        });
      }
      // The other operation answered as usual, not held up by this one.
      expect(other?.code).toBe(200);
    });

    it('covers every kind of ending a client can see', async () => {
      const kinds = new Set<string>();
      for (const ending of ENDINGS)
        kinds.add((await direct(baseOf(t), `/endings/${ending}`, platform.http2)).kind);
      expect([...kinds].sort()).toEqual([
        'complete',
        'dropped-after-headers',
        'dropped-before-headers',
      ]);
    });

    it('says in the entry whether the headers were sent, and with what status', async () => {
      const response = await postBatch(t, [
        { method: 'GET', url: '/endings/destroy-before-headers' },
        { method: 'GET', url: '/endings/destroy-after-headers' },
      ]).expect(200);
      const [before, after] = entries(response);
      expect(before?.body.message).toMatch(/before its headers were sent/);
      expect(after?.body.message).toMatch(/after its headers \(200\)/);
    });

    it('gives its dependents 424', async () => {
      const response = await postBatch(t, [
        { method: 'GET', url: '/endings/destroy-after-headers', name: 'broken' },
        { method: 'GET', url: '/endings/complete', dependsOn: ['broken'] },
      ]).expect(200);
      const [, dependent] = entries(response);
      expect(dependent).toMatchObject({
        code: 424,
        body: { reason: 'dependency-failed', failedDependency: 0 },
      });
    });
  });

  describe('an aborted operation in an atomic group', () => {
    it('rolls the group back', async () => {
      const outcomes: string[] = [];
      const transaction: BatchTransactionHook = async (work) => {
        try {
          await work();
          outcomes.push('commit');
        } catch {
          outcomes.push('rollback');
          throw new Error('rolled back');
        }
      };
      await withTestApp(
        { batch: { transaction, timeout: NEVER }, imports: [EndingsModule] },
        async (s) => {
          const response = await postBatch(s, [
            { method: 'GET', url: '/endings/complete', atomicityGroup: 'g' },
            { method: 'GET', url: '/endings/stream-error', atomicityGroup: 'g' },
          ]).expect(200);
          const [first, broken] = entries(response);
          expect(broken?.body).toMatchObject({ reason: 'response-aborted' });
          expect(first?.body).toMatchObject({ reason: 'rolled-back', failedOperation: 1 });
          expect(outcomes).toEqual(['rollback']);
        },
      );
    });
  });

  describe('with no batch timeout at all (timeout: 0)', () => {
    it('still answers', async () => {
      await withTestApp({ batch: { timeout: 0 }, imports: [EndingsModule] }, async (s) => {
        const response = await postBatch(s, [
          { method: 'GET', url: '/endings/destroy-before-headers' },
          { method: 'GET', url: '/endings/socket-error' },
          { method: 'GET', url: '/endings/complete' },
        ]).expect(200);
        expect(entries(response).map((entry) => entry?.code)).toEqual([502, 502, 200]);
      });
    });
  });
});
