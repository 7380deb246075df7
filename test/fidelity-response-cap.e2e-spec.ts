/**
 * A response that goes on past maxResponseBytes is a 502 entry once past the cap, as the docs
 * say, and the app is told its client left. Before the fix the operation was settled only at the
 * response's 'finish': a stream that does not end soon (server-sent events, a long or endless
 * download) went on being produced, and the entry waited for a timeout, where it was a 504 or
 * `null`, with the app's Observable still subscribed.
 */
import { Controller, Module, Sse } from '@nestjs/common';
import { finalize, interval, map, type Observable } from 'rxjs';
import { forEachPlatform } from './utils/platforms.js';
import { entries, postBatch, useTestApp } from './utils/test-app.js';

const PAYLOAD = 'e'.repeat(1024);
const state = { finalizedAt: 0, events: 0 };

@Controller('cap')
class CapController {
  /** 1 KiB every 10 ms, for ever: a feed, a log tail, a progress stream. */
  @Sse('feed')
  feed(): Observable<{ data: string }> {
    return interval(10).pipe(
      map(() => {
        state.events++;
        return { data: PAYLOAD };
      }),
      finalize(() => (state.finalizedAt = Date.now())),
    );
  }
}

@Module({ controllers: [CapController] })
class CapModule {}

forEachPlatform(() => {
  // 16 KiB: crossed after about 16 events, some 160 ms in. The batch timeout is far beyond.
  const t = useTestApp({
    imports: [CapModule],
    batch: { maxResponseBytes: 16 * 1024, timeout: 4000 },
  });

  it('a stream past maxResponseBytes is a 502 entry once past the cap, and the app stream is stopped', async () => {
    state.events = 0;
    state.finalizedAt = 0;
    const response = await postBatch(t, [{ method: 'GET', url: '/cap/feed' }]).expect(200);
    const [entry] = entries(response);
    const eventsAtReply = state.events;
    expect({
      code: entry?.code,
      reason: (entry?.body as { reason?: string } | undefined)?.reason,
    }).toEqual({
      code: 502,
      reason: 'response-too-large',
    });
    // Settled near the cap (about 16 events), not held to the batch timeout (some 400 events).
    expect(eventsAtReply).toBeLessThan(100);
    expect(state.finalizedAt).toBeGreaterThan(0);
  });
});
