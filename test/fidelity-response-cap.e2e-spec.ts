/**
 * A response that goes on past maxResponseBytes is a 502 entry once past the cap, as the docs
 * say, and the app is told its client left. Before the fix the operation was settled only at the
 * response's 'finish': a stream that does not end soon (server-sent events, a long or endless
 * download) went on being produced, and the entry waited for a timeout, where it was a 504 or
 * `null`, with the app's Observable still subscribed.
 */
import { Controller, Get, Module, Res, Sse } from '@nestjs/common';
import { finalize, interval, map, type Observable } from 'rxjs';
import { takeOverResponse } from './utils/node-response.js';
import { forEachPlatform } from './utils/platforms.js';
import { entries, postBatch, setCookiesOf, useTestApp, withTestApp } from './utils/test-app.js';

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

  /** A download with a cookie in its headers, 1 KiB a turn until its client leaves. */
  @Get('download')
  download(@Res() reply: object): void {
    const res = takeOverResponse(reply);
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'x-kept': 'yes',
      'set-cookie': 'seen=1; Path=/',
    });
    const more = (): void => {
      if (res.destroyed) return;
      res.write(PAYLOAD);
      setImmediate(more);
    };
    more();
  }

  @Get('ok')
  ok(): { ok: true } {
    return { ok: true };
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

  it("gives what the cut response had sent (its status and headers), as a gateway's client read them", async () => {
    const response = await postBatch(t, [{ method: 'GET', url: '/cap/download' }]).expect(200);
    const [entry] = entries(response);
    expect(entry).toMatchObject({
      code: 502,
      body: {
        reason: 'response-too-large',
        sent: {
          code: 200,
          headers: { 'content-type': 'application/octet-stream', 'x-kept': 'yes' },
        },
      },
    });
    // Its cookie went out with its headers: relayed, never shown in `sent`.
    expect(
      (entry?.body as { sent: { headers: Record<string, unknown> } }).sent.headers['set-cookie'],
    ).toBeUndefined();
    expect(setCookiesOf(response)).toEqual([expect.stringMatching(/^seen=1/)]);
  });

  it('shows nothing of a cut member of an atomic group, which is rolled back with its cookies', async () => {
    await withTestApp(
      {
        imports: [CapModule],
        batch: {
          maxResponseBytes: 16 * 1024,
          transaction: (work: () => Promise<void>) => work(),
        },
      },
      async (other) => {
        const response = await postBatch(other, [
          { method: 'GET', url: '/cap/ok', atomicityGroup: 'g' },
          { method: 'GET', url: '/cap/download', atomicityGroup: 'g' },
        ]).expect(200);
        const [first, cut] = entries(response);
        expect(first).toMatchObject({ code: 424, body: { reason: 'rolled-back' } });
        expect(cut).toMatchObject({ code: 502, body: { reason: 'response-too-large' } });
        expect((cut?.body as { sent?: unknown }).sent).toBeUndefined();
        expect(setCookiesOf(response)).toEqual([]);
      },
    );
  });
});
