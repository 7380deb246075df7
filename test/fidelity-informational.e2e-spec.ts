/**
 * A 1xx the app writes (103 Early Hints, 100 Continue) goes to the connection at once, uncorked.
 * A response then destroyed in the tick of its first write sent no final headers directly (Node
 * corks that write until the next tick), as fidelity-response-calls 5a checks without the 1xx.
 * Before the fix, the operation's socket counted the 1xx as the head gone out, and the batch took
 * the corked 200 and its cookie for sent.
 */
import { Controller, Get, Module, Res } from '@nestjs/common';
import { direct } from './utils/direct-view.js';
import { takeOverResponse } from './utils/node-response.js';
import { forEachPlatform } from './utils/platforms.js';
import { baseOf } from './utils/raw-http.js';
import { entries, postBatch, useTestApp } from './utils/test-app.js';

@Controller('info')
class InformationalController {
  @Get('hints-then-corked-destroy')
  hints(@Res() reply: object): void {
    const res = takeOverResponse(reply);
    res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
    res.writeHead(200, { 'content-type': 'text/plain', 'set-cookie': 'hinted=1; Path=/' });
    res.write('partial;');
    res.destroy();
  }

  @Get('continue-then-corked-destroy')
  continued(@Res() reply: object): void {
    const res = takeOverResponse(reply);
    res.writeContinue();
    res.writeHead(200, { 'content-type': 'text/plain', 'set-cookie': 'continued=1; Path=/' });
    res.write('partial;');
    res.destroy();
  }
}

@Module({ controllers: [InformationalController] })
class InformationalModule {}

forEachPlatform(() => {
  const t = useTestApp({ imports: [InformationalModule] });

  it.each(['hints-then-corked-destroy', 'continue-then-corked-destroy'])(
    '%s: no final headers went out, directly or batched',
    async (route) => {
      const url = `/info/${route}`;
      const seen = await direct(baseOf(t), url);
      expect(seen.kind).toBe('dropped-before-headers');
      const response = await postBatch(t, [{ method: 'GET', url }]).expect(200);
      const entry = entries(response)[0];
      expect(entry).toMatchObject({ code: 502, body: { reason: 'response-aborted' } });
      // As in 5a: nothing of the corked 200 was sent, so no `sent` and no cookie.
      expect({
        sent: (entry?.body as { sent?: unknown }).sent,
        cookie: response.headers['set-cookie'],
      }).toEqual({ sent: undefined, cookie: undefined });
    },
  );
});
