import { setImmediate as nextTurn } from 'node:timers/promises';
import { OperationQueue } from '../lib/schedule/operation.queue.js';
import { GateModule, Gates } from './fixtures/gate.controller.js';
import { createTestApp, entries, postBatch, type TestApp } from './utils/test-app.js';
import { forEachPlatform } from './utils/platforms.js';

/**
 * 200 concurrent batches of 50 slow operations would put 2,000 operations in flight.
 * `globalConcurrency` caps operations in flight across all batches, and shares the slots between
 * batches in turn, so a huge batch cannot starve a small one. Every step here waits on an event
 * (an arrival at the gate, a count of queued operations), never on a clock.
 */
forEachPlatform(() => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp({
      imports: [GateModule],
      batch: { globalConcurrency: 2, concurrency: 10 },
    });
  });
  afterEach(() => t.close());

  const gated = (tag: string, count: number) =>
    Array.from({ length: count }, () => ({ method: 'GET', url: `/gate/${tag}` }));

  /**
   * Waits, turn by turn, until `done()` holds (every step of the app is on the event loop); gives
   * up after a number of turns no passing run comes near, so a failure fails rather than hangs.
   */
  async function until(done: () => boolean): Promise<void> {
    for (let turns = 0; !done(); turns++) {
      if (turns > 200_000) throw new Error('the condition never held');
      await nextTurn();
    }
  }

  it('holds operations of all batches to the cap, and takes the batches in turn', async () => {
    const gates = t.app.get(Gates);
    const queue = t.app.get(OperationQueue);
    const big = postBatch(t, gated('a', 10)).then((response) => response);
    await gates.arrivals(2);
    const small = postBatch(t, gated('b', 2)).then((response) => response);
    // 8 of the big batch and both of the small one wait for a slot (or, without a cap, all run).
    await until(() => queue.waiting === 10 || gates.arrived.length === 12);
    for (let arrived = 2; arrived < 12; arrived++) {
      gates.releaseOldest();
      await gates.arrivals(arrived + 1);
    }
    gates.releaseOldest();
    gates.releaseOldest();
    expect(gates.peak).toBe(2);
    // The small batch got every other slot from the moment it queued, not the leftovers.
    expect(gates.arrived.join('')).toBe('aaababaaaaaa');
    expect(entries(await small).map((entry) => entry?.code)).toEqual([200, 200]);
    expect(entries(await big).every((entry) => entry?.code === 200)).toBe(true);
    expect(queue.waiting).toBe(0);
  });

  it('frees the slots of a batch whose client went away, and its queued operations never run', async () => {
    const gates = t.app.get(Gates);
    const queue = t.app.get(OperationQueue);
    const request = t.http.post('/batch').send({ data: gated('gone', 6) });
    const pending = request.then(
      () => undefined,
      () => undefined,
    );
    await gates.arrivals(2);
    await until(() => queue.waiting === 4 || gates.arrived.length === 6);
    request.abort();
    await pending;
    await until(() => queue.waiting === 0);
    // The two held at the gate were abandoned; their slots serve the next batch at once.
    const next = postBatch(t, gated('next', 2)).then((response) => response);
    await until(() => gates.arrived.filter((tag) => tag === 'next').length === 2);
    gates.releaseOldest();
    gates.releaseOldest();
    gates.releaseOldest();
    gates.releaseOldest();
    expect(entries(await next).map((entry) => entry?.code)).toEqual([200, 200]);
    expect(gates.arrived.filter((tag) => tag === 'gone')).toHaveLength(2);
  });

  it('refuses a cap that is not a whole number at bootstrap', async () => {
    await expect(createTestApp({ batch: { globalConcurrency: -1 } })).rejects.toThrow(
      /globalConcurrency must be an integer >= 0, got -1/,
    );
  });
});
