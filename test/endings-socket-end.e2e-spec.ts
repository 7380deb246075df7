/**
 * A handler that ends its connection gracefully (`socket.end()`, FIN) rather than destroying it.
 * Directly, a server connection (allowHalfOpen false) closes once flushed and the client sees it
 * drop; an operation's connection does the same, so the entry is a 502 response-aborted, not a
 * wait for the batch timeout (here far beyond Jest's).
 */
import { Controller, Get, Module, Req, Res } from '@nestjs/common';
import { direct } from './utils/direct-view.js';
import { forEachPlatform } from './utils/platforms.js';
import { baseOf } from './utils/raw-http.js';
import { entries, postBatch, useTestApp } from './utils/test-app.js';
import { nodeRequestOf, nodeResponseOf } from './utils/node-response.js';

@Controller('socket-end')
class SocketEndController {
  /** Ends the connection gracefully (FIN), no response at all. */
  @Get('socket-end')
  socketEnd(@Req() request: object): Promise<never> {
    nodeRequestOf(request).socket.end();
    return new Promise(() => undefined);
  }

  /** Headers and part of the body, then the connection ended gracefully. */
  @Get('socket-end-after-headers')
  socketEndAfterHeaders(@Res() reply: object): void {
    const res = nodeResponseOf(reply);
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('partial', () => res.socket?.end());
  }

  @Get('echo-cookie')
  echoCookie(@Req() request: object): { cookie: string | undefined } {
    return { cookie: nodeRequestOf(request).headers.cookie };
  }
}

@Module({ controllers: [SocketEndController] })
class SocketEndModule {}

/** Far beyond Jest's own timeout: waiting on it fails the test by Jest's. */
const NEVER = 60_000;

forEachPlatform(() => {
  describe('a response whose connection is ended (socket.end), not destroyed', () => {
    const t = useTestApp({ batch: { timeout: NEVER }, imports: [SocketEndModule] });

    // Directly: the client sees the connection close ("socket hang up") at once.
    it('before its headers: the operation ends with response-aborted, not at the timeout', async () => {
      expect((await direct(baseOf(t), '/socket-end/socket-end')).kind).toBe(
        'dropped-before-headers',
      );
      const response = await postBatch(t, [
        { method: 'GET', url: '/socket-end/socket-end' },
        { method: 'GET', url: '/socket-end/echo-cookie' },
      ]).expect(200);
      expect(entries(response)[0]).toMatchObject({
        code: 502,
        body: { reason: 'response-aborted' },
      });
    }, 8_000);

    // Directly: the client gets the headers, then the connection ends mid-body.
    it('after its headers: the operation ends with response-aborted, not at the timeout', async () => {
      expect((await direct(baseOf(t), '/socket-end/socket-end-after-headers')).kind).toBe(
        'dropped-after-headers',
      );
      const response = await postBatch(t, [
        { method: 'GET', url: '/socket-end/socket-end-after-headers' },
      ]).expect(200);
      expect(entries(response)[0]).toMatchObject({
        code: 502,
        body: { reason: 'response-aborted' },
      });
    }, 8_000);
  });
});
