/**
 * The cut at maxResponseBytes ("as after a client that read that much and left"), against what
 * such a client (and a direct request) sees. Before the fixes, a HEAD whose handler wrote past
 * the cap (bytes Node drops) was cut and its app saw an abort, and the cut response's cookies,
 * which went out with its headers, were not relayed.
 */
import { Controller, Get, Module, Req, Res } from '@nestjs/common';
import { forEachPlatform } from './utils/platforms.js';
import { nodeRequestOf, takeOverResponse } from './utils/node-response.js';
import { entries, postBatch, useTestApp } from './utils/test-app.js';
import { until } from './utils/wait-for.js';

const CHUNK = Buffer.alloc(8 * 1024, 'x');
const state: { finished?: boolean; aborted?: boolean } = {};

@Controller('capx')
class CapEndingsController {
  /**
   * A download that writes 8 KiB a turn, 16 times (128 KiB), and notes how it ended (an audit
   * or a download counter reads this). Express routes HEAD here too; Fastify adds HEAD to GET.
   */
  @Get('download')
  download(@Req() request: object, @Res() reply: object): void {
    const req = nodeRequestOf(request);
    const res = takeOverResponse(reply);
    res.setHeader('set-cookie', 'downloaded=1; Path=/');
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    let left = 16;
    const next = (): void => {
      if (res.destroyed || req.destroyed) return;
      if (left-- === 0) {
        res.end();
        return;
      }
      res.write(CHUNK);
      setImmediate(next);
    };
    res.on('finish', () => (state.finished = true));
    req.on('aborted', () => (state.aborted = true));
    res.on('close', () => {
      if (!res.writableFinished) state.aborted = true;
    });
    next();
  }
}

@Module({ controllers: [CapEndingsController] })
class CapEndingsModule {}

forEachPlatform(() => {
  const t = useTestApp({
    imports: [CapEndingsModule],
    batch: { maxResponseBytes: 16 * 1024, timeout: 4000 },
  });

  const reset = (): void => {
    state.finished = undefined;
    state.aborted = undefined;
  };
  /** Until the download ended, one way or the other. */
  const ended = (): Promise<void> =>
    until(() => state.finished !== undefined || state.aborted !== undefined, 'the download ended');

  it('HEAD: no body goes out, so the cap is never reached; the download ends as directly', async () => {
    reset();
    const direct = await t.http.head('/capx/download');
    await ended();
    const directSeen = { code: direct.status, ...state };
    reset();
    const response = await postBatch(t, [{ method: 'HEAD', url: '/capx/download' }]).expect(200);
    await ended();
    const batchedSeen = { code: entries(response)[0]?.code, ...state };
    expect(directSeen).toEqual({ code: 200, finished: true });
    expect(batchedSeen).toEqual(directSeen);
  });

  it('a response cut at the cap keeps the cookies its headers carried, as the client that read that much', async () => {
    // Directly: a browser stores a cookie from the headers, whatever the body does after.
    const agent = t.browser();
    await agent
      .get('/capx/download')
      .buffer(true)
      .parse((res, done) => {
        res.on('data', () => undefined);
        res.on('end', () => done(null, null));
      });
    const response = await postBatch(t, [{ method: 'GET', url: '/capx/download' }]).expect(200);
    const [entry] = entries(response);
    expect(entry?.code).toBe(502);
    // A response aborted after its headers went out relays them (response-aborted); one cut at
    // the cap, after its headers and 16 KiB went out, should too.
    expect(response.headers['set-cookie']).toEqual(['downloaded=1; Path=/']);
  });
});
