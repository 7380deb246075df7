/**
 * A bodiless answer (HEAD, 204, 304) is complete once its headers are out, so a response destroyed
 * after them ended normally for a direct client, and its entry is that answer, not a 502. And
 * the net.Socket behaviour an operation's connection shares with a real one: destroySoon(),
 * address(), and the idle timeout of setTimeout.
 */
import { Controller, Get, Head, Module, Req, Res } from '@nestjs/common';
import { request as httpRequest } from 'node:http';
import { forEachPlatform } from './utils/platforms.js';
import { baseOf } from './utils/raw-http.js';
import { entries, postBatch, useTestApp } from './utils/test-app.js';
import { nodeRequestOf, nodeResponseOf } from './utils/node-response.js';

/** Sends the headers of `status`, then destroys the response (as a closing proxy or pool does). */
function headersThenDestroy(reply: object, status: number): void {
  const res = nodeResponseOf(reply);
  res.writeHead(status, status === 200 ? { 'content-length': '10' } : {});
  res.flushHeaders();
  setImmediate(() => res.destroy());
}

@Controller('bodiless-socket')
class BodilessController {
  @Get('204')
  noContent(@Res() reply: object): void {
    headersThenDestroy(reply, 204);
  }

  @Get('304')
  notModified(@Res() reply: object): void {
    headersThenDestroy(reply, 304);
  }

  @Head('head')
  head(@Res() reply: object): void {
    headersThenDestroy(reply, 200);
  }

  /** net.Socket#destroySoon: ends the connection once written. */
  @Get('destroy-soon')
  destroySoon(@Req() request: object): Promise<never> {
    (nodeRequestOf(request).socket as unknown as { destroySoon(): void }).destroySoon();
    return new Promise(() => undefined);
  }

  /** An idle timeout on the response, as apps that answer 503 to a stalled handler set one. */
  @Get('idle-timeout')
  idleTimeout(@Res() reply: object): void {
    const res = nodeResponseOf(reply);
    res.setTimeout(100, () => {
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end('timed out');
    });
  }

  /** An idle timeout no one listens for: Node's server destroys the connection. */
  @Get('idle-unhandled')
  idleUnhandled(@Req() request: object): Promise<never> {
    nodeRequestOf(request).socket.setTimeout(100);
    return new Promise(() => undefined);
  }

  /** An idle timeout disarmed (0) before it fires: nothing happens, the answer comes later. */
  @Get('idle-disarmed')
  idleDisarmed(@Res() reply: object): void {
    const res = nodeResponseOf(reply);
    res.setTimeout(50, () => res.destroy());
    res.setTimeout(0);
    setTimeout(() => res.end('late'), 150);
  }

  /** net.Socket#address(), as apps that log or route by the local port read it. */
  @Get('address')
  address(@Req() request: object): { port: number } {
    return { port: (nodeRequestOf(request).socket.address() as { port: number }).port };
  }
}

@Module({ controllers: [BodilessController] })
class BodilessModule {}

/** A direct request's status, once its response completed; 'dropped' when the connection fell. */
function directStatus(base: string, method: string, path: string): Promise<number | 'dropped'> {
  return new Promise((resolve) => {
    const req = httpRequest(new URL(path, base), { method, agent: false }, (res) => {
      res.resume();
      res.on('error', () => undefined);
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('close', () => {
        if (!res.complete) resolve('dropped');
      });
    });
    req.on('error', () => resolve('dropped'));
    req.end();
  });
}

forEachPlatform(() => {
  const t = useTestApp({ batch: { timeout: 5000 }, imports: [BodilessModule] });

  // Directly: the client gets a complete 204 / 304 / HEAD 200 (no body is ever due).
  it.each([
    ['GET', '/bodiless-socket/204', 204],
    ['GET', '/bodiless-socket/304', 304],
    ['HEAD', '/bodiless-socket/head', 200],
  ])('%s %s destroyed after its headers answers %d, as directly', async (method, url, code) => {
    expect(await directStatus(baseOf(t), method, url)).toBe(code);
    const response = await postBatch(t, [{ method, url }]).expect(200);
    expect(entries(response)[0]?.code).toBe(code);
  });

  // Directly: the connection drops (socket hang up).
  it('socket.destroySoon() drops the operation as it drops a direct connection', async () => {
    expect(await directStatus(baseOf(t), 'GET', '/bodiless-socket/destroy-soon')).toBe('dropped');
    const response = await postBatch(t, [{ method: 'GET', url: '/bodiless-socket/destroy-soon' }]);
    expect(entries(response)[0]?.body).toMatchObject({ reason: 'response-aborted' });
  });

  // Directly: 200 with the server's port; an operation comes over the batch connection.
  it('socket.address() answers as on the batch connection', async () => {
    const response = await postBatch(t, [{ method: 'GET', url: '/bodiless-socket/address' }]);
    expect(entries(response)[0]).toMatchObject({
      code: 200,
      body: { port: Number(new URL(baseOf(t)).port) },
    });
  });

  // Directly: 503 "timed out" after 100 ms (the socket's idle timeout fires 'timeout' on the
  // response).
  it('res.setTimeout(ms, cb) fires for an operation as for a direct request', async () => {
    expect(await directStatus(baseOf(t), 'GET', '/bodiless-socket/idle-timeout')).toBe(503);
    const response = await postBatch(t, [{ method: 'GET', url: '/bodiless-socket/idle-timeout' }]);
    expect(entries(response)[0]).toMatchObject({ code: 503, body: 'timed out' });
  }, 8_000);

  // Directly: the connection drops after 100 ms (no 'timeout' listener: the server destroys it).
  it('an idle timeout no one handles drops the operation', async () => {
    expect(await directStatus(baseOf(t), 'GET', '/bodiless-socket/idle-unhandled')).toBe('dropped');
    const response = await postBatch(t, [
      { method: 'GET', url: '/bodiless-socket/idle-unhandled' },
    ]);
    expect(entries(response)[0]?.body).toMatchObject({ reason: 'response-aborted' });
  }, 8_000);

  // Directly: 200 "late"; setTimeout(0) disarmed the timer.
  it('setTimeout(0) disarms the idle timeout', async () => {
    expect(await directStatus(baseOf(t), 'GET', '/bodiless-socket/idle-disarmed')).toBe(200);
    const response = await postBatch(t, [{ method: 'GET', url: '/bodiless-socket/idle-disarmed' }]);
    expect(entries(response)[0]).toMatchObject({ code: 200, body: 'late' });
  }, 8_000);
});
