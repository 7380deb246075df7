/**
 * What an operation's life ends in however it ends: a dispatcher that throws as it starts (a 500
 * entry, not a failed batch), headers from code, the per-operation timers once it is over, and
 * what `execute()` rejects with when the run fails.
 */
import { BatchExecutor } from 'nestjs-batch';
import type { OperationDispatcher } from '../lib/dispatch/operation.dispatcher.js';
import { DispatcherHost } from '../lib/dispatch/dispatcher.host.js';
import { OperationTracer } from '../lib/dispatch/operation.tracer.js';
import { postBatch, withTestApp } from './utils/test-app.js';
import { forEachPlatform } from './utils/platforms.js';
import { activeTimeouts } from './utils/run-probes.js';
import { until } from './utils/wait-for.js';

/** Makes the dispatcher throw synchronously (before `done`/`fail`) for one url. */
function throwingFor(url: string): () => void {
  const original = Object.getOwnPropertyDescriptor(DispatcherHost.prototype, 'get')?.value as (
    this: DispatcherHost,
  ) => OperationDispatcher;
  DispatcherHost.prototype.get = function (this: DispatcherHost): OperationDispatcher {
    const real = original.call(this);
    return {
      dispatch: (request, parent, done, fail) => {
        if (request.url === url) throw new Error('the dispatcher could not start');
        return real.dispatch(request, parent, done, fail);
      },
    };
  };
  return () => {
    DispatcherHost.prototype.get = original;
  };
}

forEachPlatform(() => {
  describe('a dispatcher that throws synchronously', () => {
    // A throw as the request is made (the tracer's span or propagator, a wrapping dispatcher)
    // is that operation's failure, as a throw inside the app is: a 500 entry, and the other
    // operations still answer.
    it('gives that operation a 500 entry; the other operations still answer', async () => {
      const restore = throwingFor('/teapot');
      try {
        await withTestApp({}, async (t) => {
          const response = await postBatch(t, [
            { method: 'GET', url: '/whoami' },
            { method: 'GET', url: '/teapot' },
          ]);
          expect(response.status).toBe(200);
          const body = response.body as { data: ({ code: number } | null)[] };
          expect(body.data.map((entry) => entry?.code)).toEqual([200, 500]);
        });
      } finally {
        restore();
      }
    });
  });

  describe('the real dispatcher, its tracer throwing (a faulty SDK or propagator)', () => {
    it('gives the operations a 500 entry each rather than failing the batch', async () => {
      const { parent, start } = OperationTracer.prototype;
      OperationTracer.prototype.parent = () => ({ context: {} }) as never;
      OperationTracer.prototype.start = () => {
        throw new Error('propagator failed');
      };
      try {
        await withTestApp({}, async (t) => {
          const response = await postBatch(t, [{ method: 'GET', url: '/whoami' }]);
          expect(response.status).toBe(200);
          const body = response.body as { data: { code: number }[] };
          expect(body.data.map((entry) => entry.code)).toEqual([500]);
        });
      } finally {
        OperationTracer.prototype.parent = parent;
        OperationTracer.prototype.start = start;
      }
    });
  });

  describe('headers from code, mixed case', () => {
    it('reach the app in lower case, once each, through BatchExecutor.execute()', async () => {
      await withTestApp({}, async (t) => {
        const executor = t.app.get(BatchExecutor);
        const entries = await executor.execute([
          {
            method: 'POST',
            url: '/echo',
            headers: { 'X-Review': 'one', 'Content-Type': 'application/json' },
            body: { a: 1 },
          },
          {
            method: 'GET',
            url: '/echo',
            headers: [
              { name: 'X-Twice', value: 'a' },
              { name: 'x-twice', value: 'b' },
            ] as unknown as Record<string, string>,
          },
        ]);
        const seen = entries.map(
          (entry) =>
            (entry as unknown as { body: { headers: Record<string, string> } }).body.headers,
        );
        for (const headers of seen) {
          for (const name of Object.keys(headers)) expect(name).toBe(name.toLowerCase());
        }
        expect(seen[0]?.['x-review']).toBe('one');
        expect(seen[0]?.['content-type']).toMatch(/^application\/json/);
        expect(seen[1]?.['x-twice']).toBe('b');
      });
    });
  });

  describe('operationTimeout timers', () => {
    it('leaves no timer behind once the operations answered', async () => {
      await withTestApp({ batch: { operationTimeout: 600_000 } }, async (t) => {
        const executor = t.app.get(BatchExecutor);
        await executor.execute([{ method: 'GET', url: '/whoami' }]);
        const before = activeTimeouts();
        const operations = Array.from({ length: 30 }, () => ({
          method: 'GET' as const,
          url: '/whoami',
        }));
        await executor.execute(operations);
        await executor.execute(operations);
        expect(activeTimeouts() - before).toBeLessThan(5);
      });
    });

    it('leaves no operation timer behind when the batch timeout abandons its operations', async () => {
      await withTestApp({ batch: { operationTimeout: 600_000, timeout: 80 } }, async (t) => {
        const executor = t.app.get(BatchExecutor);
        await executor.execute([{ method: 'GET', url: '/whoami' }]);
        const before = activeTimeouts();
        const operations = Array.from({ length: 20 }, () => ({
          method: 'GET' as const,
          url: '/slow/300',
        }));
        const entries = await executor.execute(operations);
        expect(entries.every((entry) => entry === null)).toBe(true);
        // The app's own 300 ms timers are still pending: wait them out.
        await until(() => t.recorder.inFlight === 0, 'the abandoned handlers returned');
        expect(activeTimeouts() - before).toBeLessThan(5);
      });
    });

    it('a late answer after the timeout changes nothing and throws nothing', async () => {
      await withTestApp({ batch: { operationTimeout: 50 } }, async (t) => {
        const response = await postBatch(t, [
          { method: 'GET', url: '/slow/250' },
          { method: 'GET', url: '/whoami' },
        ]).expect(200);
        const body = response.body as { data: { code: number }[] };
        expect(body.data.map((entry) => entry.code)).toEqual([504, 200]);
        await until(() => t.recorder.inFlight === 0, 'the late handler answered');
        const again = await postBatch(t, [{ method: 'GET', url: '/whoami' }]).expect(200);
        expect((again.body as { data: { code: number }[] }).data[0]?.code).toBe(200);
      });
    });
  });

  describe('BatchExecutor.execute() when the run fails after it started', () => {
    // What it rejects with is part of its public contract: the value the run failed with, as
    // run() errors with it (here a caller's readyToStart rejecting), not an Error made of it.
    it.each([
      ['a string', 'busy'],
      ['an object the caller tells apart', { code: 'E_OVERLOADED', retryAfter: 5 }],
    ])('rejects with %s as it came, the same value', async (_, reason) => {
      await withTestApp({}, async (t) => {
        const executor = t.app.get(BatchExecutor);
        // Not an Error on purpose: what the caller's own code rejects with.
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
        const readyToStart = (): Promise<void> => Promise.reject(reason);
        await expect(
          executor.execute([{ method: 'GET', url: '/whoami' }], { readyToStart }),
        ).rejects.toBe(reason);
      });
    });
  });
});
