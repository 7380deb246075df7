/**
 * Adversary probes (issues 27/28 follow-up): a bodiless answer (HEAD, 204, 304) is complete once
 * its headers are out, so a response destroyed after them ended normally for a direct client;
 * and the operation's socket is missing net.Socket behaviour a real connection has.
 */
import { Controller, Get, Head, Module, Req, Res } from '@nestjs/common';
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { forEachPlatform } from './utils/platforms.js';
import { baseOf } from './utils/raw-http.js';
import { entries, postBatch, useTestApp } from './utils/test-app.js';

function rawOf(reply: object): ServerResponse {
  return ('raw' in reply ? reply.raw : reply) as ServerResponse;
}
function rawRequestOf(request: object): IncomingMessage {
  return ('raw' in request ? request.raw : request) as IncomingMessage;
}

/** Sends the headers of `status`, then destroys the response (as a closing proxy or pool does). */
function headersThenDestroy(reply: object, status: number): void {
  const res = rawOf(reply);
  res.writeHead(status, status === 200 ? { 'content-length': '10' } : {});
  res.flushHeaders();
  setImmediate(() => res.destroy());
}

@Controller('adv-bodiless')
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
    (rawRequestOf(request).socket as unknown as { destroySoon(): void }).destroySoon();
    return new Promise(() => undefined);
  }

  /** An idle timeout on the response, as apps that answer 503 to a stalled handler set one. */
  @Get('idle-timeout')
  idleTimeout(@Res() reply: object): void {
    const res = rawOf(reply);
    res.setTimeout(100, () => {
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end('timed out');
    });
  }

  /** net.Socket#address(), as apps that log or route by the local port read it. */
  @Get('address')
  address(@Req() request: object): { port: number } {
    return { port: (rawRequestOf(request).socket.address() as { port: number }).port };
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

  // Directly: the client gets a complete 204 / 304 / HEAD 200 (no body is ever due); the entry
  // is a 502 response-aborted instead.
  it.each([
    ['GET', '/adv-bodiless/204', 204],
    ['GET', '/adv-bodiless/304', 304],
    ['HEAD', '/adv-bodiless/head', 200],
  ])('%s %s destroyed after its headers answers %d, as directly', async (method, url, code) => {
    expect(await directStatus(baseOf(t), method, url)).toBe(code);
    const response = await postBatch(t, [{ method, url }]).expect(200);
    expect(entries(response)[0]?.code).toBe(code);
  });

  // Directly: the connection drops (socket hang up); batched: 500 (destroySoon is not a function).
  it('socket.destroySoon() drops the operation as it drops a direct connection', async () => {
    expect(await directStatus(baseOf(t), 'GET', '/adv-bodiless/destroy-soon')).toBe('dropped');
    const response = await postBatch(t, [{ method: 'GET', url: '/adv-bodiless/destroy-soon' }]);
    expect(entries(response)[0]?.body).toMatchObject({ reason: 'response-aborted' });
  });

  // Directly: 200 with the server's port; batched: 500 (address is not a function).
  it('socket.address() answers as on the batch connection', async () => {
    const response = await postBatch(t, [{ method: 'GET', url: '/adv-bodiless/address' }]);
    expect(entries(response)[0]).toMatchObject({
      code: 200,
      body: { port: Number(new URL(baseOf(t)).port) },
    });
  });

  // Directly: 503 "timed out" after 100 ms (the socket's idle timeout fires 'timeout' on the
  // response); batched, the operation's socket ignores setTimeout and the entry waits for the batch
  // timeout (here 5 s, then null).
  it('res.setTimeout(ms, cb) fires for an operation as for a direct request', async () => {
    expect(await directStatus(baseOf(t), 'GET', '/adv-bodiless/idle-timeout')).toBe(503);
    const response = await postBatch(t, [{ method: 'GET', url: '/adv-bodiless/idle-timeout' }]);
    expect(entries(response)[0]).toMatchObject({ code: 503, body: 'timed out' });
  }, 8_000);
});
