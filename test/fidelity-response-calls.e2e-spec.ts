/**
 * How a response's own calls end, directly and as a batch operation: a writeHead that throws,
 * a second end(), a write Node refuses, a status set after the headers went out, the request's
 * 'end' and 'close' after the answer, the connection's ref()/unref(). Each test first checks
 * what a direct client sees, then expects the entry (or what the app observed) to be the same.
 */
import { Controller, Get, Module, Req, Res } from '@nestjs/common';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { directWithHeaders as direct } from './utils/direct-view.js';
import { forEachPlatform } from './utils/platforms.js';
import { baseOf, postRaw } from './utils/raw-http.js';
import { entries, postBatch, useTestApp, withTestApp } from './utils/test-app.js';
import { nodeRequestOf, takeOverResponse } from './utils/node-response.js';
import { until } from './utils/wait-for.js';

const events: string[] = [];
function who(req: IncomingMessage): string {
  return new URL(req.url ?? '/', 'http://x').searchParams.get('who') ?? '?';
}
const timers = new Set<NodeJS.Timeout>();

/** Records, under the request's `who`, how it ends: 'aborted', 'error', 'close'. */
function recordEnding(req: IncomingMessage): void {
  const id = who(req);
  req.on('aborted', () => events.push(`${id} aborted`));
  req.on('error', (error: NodeJS.ErrnoException) =>
    events.push(`${id} error ${error.code} ${error.message}`),
  );
  req.on('close', () => events.push(`${id} close`));
  events.push(`${id} started`);
}

@Controller('fid')
class FidelityController {
  /** 1. Cleans up a per-request timer on the request's 'close', as many handlers do. */
  @Get('req-close')
  reqClose(@Req() request: object, @Res() reply: object): void {
    const req = nodeRequestOf(request);
    const res = takeOverResponse(reply);
    const id = who(req);
    const timer = setInterval(() => undefined, 1000);
    timers.add(timer);
    req.on('end', () => events.push(`${id} req-end`));
    // A request answered in full was not aborted, directly or batched.
    req.on('aborted', () => events.push(`${id} req-aborted`));
    req.on('close', () => {
      clearInterval(timer);
      timers.delete(timer);
      events.push(`${id} req-close`);
    });
    res.end('ok');
  }

  /** 7. Waits for its client, telling what its request emits when the client leaves. */
  @Get('client-gone')
  clientGone(@Req() request: object, @Res() reply: object): void {
    takeOverResponse(reply);
    recordEnding(nodeRequestOf(request));
  }

  /** 7c. Streams 1 KiB every 10 ms for ever, and records how its request ends. */
  @Get('endless-feed')
  endlessFeed(@Req() request: object, @Res() reply: object): void {
    const req = nodeRequestOf(request);
    const res = takeOverResponse(reply);
    recordEnding(req);
    res.writeHead(200, { 'content-type': 'text/plain' });
    const timer = setInterval(() => res.write('x'.repeat(1024)), 10);
    timers.add(timer);
    req.on('close', () => clearInterval(timer));
  }

  /** 2a. A second writeHead (an error path) throws ERR_HTTP_HEADERS_SENT; the app goes on. */
  @Get('write-head-twice')
  writeHeadTwice(@Res() reply: object): void {
    const res = takeOverResponse(reply);
    res.writeHead(200, { 'content-type': 'text/plain', 'x-first': '1' });
    try {
      res.writeHead(500, { 'x-second': 'never-sent', 'set-cookie': 'never=sent; Path=/' });
    } catch {
      // ERR_HTTP_HEADERS_SENT
    }
    res.end('ok');
  }

  /** 2b. writeHead with an invalid status throws before anything is sent; the app answers 400. */
  @Get('write-head-bad-status')
  writeHeadBadStatus(@Res() reply: object): void {
    const res = takeOverResponse(reply);
    try {
      res.writeHead(1000, { 'x-secret': 'internal', 'set-cookie': 'leak=1; Path=/' });
    } catch {
      // ERR_HTTP_INVALID_STATUS_CODE
    }
    res.statusCode = 400;
    res.end('bad');
  }

  /** 2c. User input with CR/LF in a header: Node throws ERR_INVALID_CHAR, Nest answers 500. */
  @Get('download')
  download(@Req() request: object, @Res() reply: object): void {
    const name =
      new URL(nodeRequestOf(request).url ?? '/', 'http://x').searchParams.get('name') ?? '';
    const res = takeOverResponse(reply);
    res.writeHead(200, {
      'content-type': 'text/plain',
      'content-disposition': `attachment; filename="${name}"`,
    });
    res.end('file');
  }

  /** 3a. A second end() (a missing `return` after an early answer). */
  @Get('end-twice')
  endTwice(@Res() reply: object): void {
    const res = takeOverResponse(reply);
    res.on('error', () => undefined); // ERR_STREAM_WRITE_AFTER_END, as directly
    res.setHeader('content-type', 'text/plain');
    res.end('public');
    res.end('-SECRET-NOT-SENT');
  }

  /** 3b. A write Node refuses (ERR_INVALID_ARG_TYPE), caught by the app. */
  @Get('refused-write')
  refusedWrite(@Res() reply: object): void {
    const res = takeOverResponse(reply);
    res.setHeader('content-type', 'text/plain');
    try {
      res.write(new Uint16Array([0x4141]));
    } catch {
      // ERR_INVALID_ARG_TYPE
    }
    res.end('ok');
  }

  /** 4a. statusCode changed after the response ended (`res.json(x); res.status(204)`). */
  @Get('status-after-end')
  statusAfterEnd(@Res() reply: object): void {
    const res = takeOverResponse(reply);
    res.setHeader('content-type', 'text/plain');
    res.end('the body');
    res.statusCode = 204;
  }

  /** 4b. A stream that fails after its 200 went out, answered with `res.status(500).end()`. */
  @Get('status-after-headers')
  statusAfterHeaders(@Res() reply: object): void {
    const res = takeOverResponse(reply);
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('partial;');
    setImmediate(() => {
      res.statusCode = 500;
      res.end('error');
    });
  }

  /** 4c. As 4b, but the stream is then destroyed: the client had read a 200, then the drop. */
  @Get('status-after-headers-destroyed')
  statusAfterHeadersDestroyed(@Res() reply: object): void {
    const res = takeOverResponse(reply);
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('partial;');
    setTimeout(() => {
      res.statusCode = 500;
      res.destroy();
    }, 20);
  }

  /** 4d. As 4b, but the stream then stalls: the operation times out after a 200 went out. */
  @Get('status-after-headers-stalled')
  statusAfterHeadersStalled(@Res() reply: object): void {
    const res = takeOverResponse(reply);
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('partial;');
    setTimeout(() => {
      res.statusCode = 500;
    }, 20);
  }

  /**
   * 5. Destroyed in the same tick as its first write (a handler that writes, then fails at
   * once): the write corks the connection until the next tick, so its headers never leave.
   */
  @Get('corked-destroy')
  corkedDestroy(@Res() reply: object): void {
    const res = takeOverResponse(reply);
    res.writeHead(200, { 'content-type': 'text/plain', 'set-cookie': 'corked=1; Path=/' });
    res.write('partial;');
    res.destroy();
  }

  /** 5b. The same, a tick later: the headers went out, and their cookie with them. */
  @Get('flushed-destroy')
  flushedDestroy(@Res() reply: object): void {
    const res = takeOverResponse(reply);
    res.writeHead(200, { 'content-type': 'text/plain', 'set-cookie': 'flushed=1; Path=/' });
    res.write('partial;');
    setTimeout(() => res.destroy(), 20);
  }

  /** 6. net.Socket methods a real connection has. */
  @Get('socket-unref')
  socketUnref(@Req() request: object, @Res() reply: object): void {
    const socket = nodeRequestOf(request).socket as unknown as { unref(): void; ref(): void };
    const res = takeOverResponse(reply);
    socket.unref();
    socket.ref();
    res.end('ok');
  }

  /** 6b. What a logger or health check reads of the connection's state and server. */
  @Get('socket-state')
  socketState(@Req() request: object, @Res() reply: object): void {
    const socket = nodeRequestOf(request).socket as unknown as {
      readyState?: string;
      server?: { address(): unknown };
    };
    const res = takeOverResponse(reply);
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        readyState: socket.readyState ?? null,
        // The server listening on the app's port: the same one, direct or batched.
        port: (socket.server?.address() as { port?: number } | undefined)?.port ?? null,
      }),
    );
  }
}

@Module({ controllers: [FidelityController] })
class FidelityModule {}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

forEachPlatform((platform) => {
  const t = useTestApp({
    batch: { timeout: 5000, entryHeaders: 'all' },
    imports: [FidelityModule],
  });
  afterAll(() => {
    // Should an operation's request never close again (test 1), Jest can still exit.
    for (const timer of timers) clearInterval(timer);
  });

  it("1. the request emits 'end' and 'close' after the answer, as directly (cleanup runs)", async () => {
    events.length = 0;
    await direct(baseOf(t), '/fid/req-close?who=direct');
    await postBatch(t, [{ method: 'GET', url: '/fid/req-close?who=batch' }]).expect(200);
    await sleep(300);
    expect(events.filter((e) => e.startsWith('direct'))).toEqual([
      'direct req-end',
      'direct req-close',
    ]);
    // Before the fix, neither fired for the operation, and its interval ran forever.
    expect(events.filter((e) => e.startsWith('batch'))).toEqual([
      'batch req-end',
      'batch req-close',
    ]);
  });

  it('2a. a writeHead that threw (headers already sent) adds nothing to the entry or the cookies', async () => {
    const seen = await direct(baseOf(t), '/fid/write-head-twice');
    expect(seen).toMatchObject({ kind: 'complete', status: 200, body: 'ok' });
    expect(seen.headers).not.toHaveProperty('x-second');
    expect(seen.headers).not.toHaveProperty('set-cookie');
    const response = await postBatch(t, [{ method: 'GET', url: '/fid/write-head-twice' }]).expect(
      200,
    );
    const entry = entries(response)[0];
    // Before the fix, x-second was in the entry, and the batch reply set never=sent.
    expect(entry?.headers).not.toHaveProperty('x-second');
    expect(response.headers['set-cookie']).toBeUndefined();
  });

  it('2b. a writeHead that threw (invalid status) adds nothing to the entry or the cookies', async () => {
    const seen = await direct(baseOf(t), '/fid/write-head-bad-status');
    expect(seen).toMatchObject({ kind: 'complete', status: 400, body: 'bad' });
    expect(seen.headers).not.toHaveProperty('x-secret');
    expect(seen.headers).not.toHaveProperty('set-cookie');
    const response = await postBatch(t, [
      { method: 'GET', url: '/fid/write-head-bad-status' },
    ]).expect(200);
    const entry = entries(response)[0];
    expect(entry?.code).toBe(400);
    // Before the fix, x-secret was in the entry, and the batch reply set leak=1.
    expect(entry?.headers).not.toHaveProperty('x-secret');
    expect(response.headers['set-cookie']).toBeUndefined();
  });

  if (platform.name === 'express') {
    const evil = encodeURIComponent('x.txt"\r\nX-Injected: yes');
    it('2c. a header value Node refused (CR/LF) is not in the entry, nor raw in a multipart reply', async () => {
      const seen = await direct(baseOf(t), `/fid/download?name=${evil}`);
      expect(seen).toMatchObject({ kind: 'complete', status: 500 });
      expect(JSON.stringify(seen.headers)).not.toContain('X-Injected');
      const body = [
        '--b',
        'Content-Type: application/http',
        'Content-ID: 1',
        '',
        `GET /fid/download?name=${evil} HTTP/1.1`,
        '',
        '--b--',
        '',
      ].join('\r\n');
      const reply = await postRaw(t, body, { 'content-type': 'multipart/mixed; boundary=b' });
      // Before the fix, `X-Injected: yes"` was a header line of its own in the part's head.
      expect(reply.body.toString('latin1')).not.toMatch(/\r\nX-Injected: yes/);
    });
  }

  it('3a. bytes of a second end() (never sent) are not in the entry', async () => {
    const seen = await direct(baseOf(t), '/fid/end-twice');
    expect(seen).toMatchObject({ kind: 'complete', status: 200, body: 'public' });
    const response = await postBatch(t, [{ method: 'GET', url: '/fid/end-twice' }]).expect(200);
    // Before the fix, 'public-SECRET-NOT-SENT'.
    expect(entries(response)[0]?.body).toBe('public');
  });

  it('3b. bytes of a write Node refused (threw) are not in the entry', async () => {
    const seen = await direct(baseOf(t), '/fid/refused-write');
    expect(seen).toMatchObject({ kind: 'complete', status: 200, body: 'ok' });
    const response = await postBatch(t, [{ method: 'GET', url: '/fid/refused-write' }]).expect(200);
    // Before the fix, 'AAok'.
    expect(entries(response)[0]?.body).toBe('ok');
  });

  it('4a. the entry has the status that was sent, not one set after the end', async () => {
    const seen = await direct(baseOf(t), '/fid/status-after-end');
    expect(seen).toMatchObject({ kind: 'complete', status: 200, body: 'the body' });
    const response = await postBatch(t, [{ method: 'GET', url: '/fid/status-after-end' }]).expect(
      200,
    );
    // Before the fix, code 204 and no body.
    expect(entries(response)[0]).toMatchObject({ code: 200, body: 'the body' });
  });

  it('4b. the entry has the status that was sent, not one set after the headers went out', async () => {
    const seen = await direct(baseOf(t), '/fid/status-after-headers');
    expect(seen).toMatchObject({ kind: 'complete', status: 200, body: 'partial;error' });
    const response = await postBatch(t, [
      { method: 'GET', url: '/fid/status-after-headers' },
    ]).expect(200);
    // Before the fix, 500: a dependent got 424, and an atomic group rolled back.
    expect(entries(response)[0]).toMatchObject({ code: 200, body: 'partial;error' });
  });

  it('4c. a response dropped after its headers names the status that was sent', async () => {
    const seen = await direct(baseOf(t), '/fid/status-after-headers-destroyed');
    expect(seen).toMatchObject({ kind: 'dropped-after-headers', status: 200 });
    const response = await postBatch(t, [
      { method: 'GET', url: '/fid/status-after-headers-destroyed' },
    ]).expect(200);
    const entry = entries(response)[0];
    expect(entry).toMatchObject({ code: 502, body: { reason: 'response-aborted' } });
    expect(entry?.body.sent).toMatchObject({ code: 200 });
  });

  it('4d. an operation timed out after its headers names the status that was sent', async () => {
    await withTestApp(
      { batch: { operationTimeout: 200 }, imports: [FidelityModule] },
      async (other) => {
        const response = await postBatch(other, [
          { method: 'GET', url: '/fid/status-after-headers-stalled' },
        ]).expect(200);
        const entry = entries(response)[0];
        expect(entry).toMatchObject({ code: 504, body: { reason: 'operation-timeout' } });
        expect(entry?.body.message).toContain('headers (200)');
        expect(entry?.body.sent).toMatchObject({ code: 200 });
      },
    );
  });

  it('5a. a response destroyed in the tick of its first write sent no headers, and no cookie', async () => {
    const seen = await direct(baseOf(t), '/fid/corked-destroy');
    expect(seen.kind).toBe('dropped-before-headers');
    expect(seen.headers).not.toHaveProperty('set-cookie');
    const response = await postBatch(t, [{ method: 'GET', url: '/fid/corked-destroy' }]).expect(
      200,
    );
    const entry = entries(response)[0];
    expect(entry).toMatchObject({ code: 502, body: { reason: 'response-aborted' } });
    // Before the fix, the entry named a 200 as sent, and the batch reply set corked=1.
    expect(entry?.body).not.toHaveProperty('sent');
    expect(response.headers['set-cookie']).toBeUndefined();
  });

  it('5b. destroyed a tick after its first write, its headers and cookie went out', async () => {
    const seen = await direct(baseOf(t), '/fid/flushed-destroy');
    expect(seen).toMatchObject({ kind: 'dropped-after-headers', status: 200 });
    expect(seen.headers['set-cookie']).toEqual(['flushed=1; Path=/']);
    const response = await postBatch(t, [{ method: 'GET', url: '/fid/flushed-destroy' }]).expect(
      200,
    );
    const entry = entries(response)[0];
    expect(entry).toMatchObject({ code: 502, body: { reason: 'response-aborted' } });
    expect(entry?.body.sent).toMatchObject({ code: 200 });
    expect(response.headers['set-cookie']).toEqual([expect.stringMatching(/^flushed=1; Path=\//)]);
  });

  it("6b. the connection's readyState and server are a real connection's", async () => {
    const seen = await direct(baseOf(t), '/fid/socket-state');
    expect(seen.kind).toBe('complete');
    const body = seen.kind === 'complete' ? (JSON.parse(seen.body) as object) : {};
    expect(body).toMatchObject({ readyState: 'open', port: expect.any(Number) });
    const response = await postBatch(t, [{ method: 'GET', url: '/fid/socket-state' }]).expect(200);
    // Before the fix, { readyState: null, port: null }.
    expect(entries(response)[0]).toMatchObject({ code: 200, body });
  });

  it("7. a request whose client left emits 'aborted', 'error' (ECONNRESET) and 'close', as directly", async () => {
    events.length = 0;
    /** Sends a request, and leaves once the handler of `id` started. */
    const leave = async (id: string, path: string, body?: string): Promise<void> => {
      const req = httpRequest(new URL(path, baseOf(t)), {
        method: body === undefined ? 'GET' : 'POST',
        agent: false,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
      });
      req.on('error', () => undefined);
      req.end(body);
      await until(() => events.includes(`${id} started`), `${id} started`);
      req.destroy();
      await until(() => events.includes(`${id} close`), `${id} closed`);
    };
    await leave('direct', '/fid/client-gone?who=direct');
    await leave(
      'batch',
      '/batch',
      JSON.stringify({ data: [{ method: 'GET', url: '/fid/client-gone?who=batch' }] }),
    );
    const of = (id: string): string[] =>
      events.filter((e) => e.startsWith(`${id} `)).map((e) => e.slice(id.length + 1));
    expect(of('direct')).toEqual(['started', 'aborted', 'error ECONNRESET aborted', 'close']);
    // Before the fix, no 'error': code that ends a pipeline on it never heard of the drop.
    expect(of('batch')).toEqual(of('direct'));
  });

  it('7b. an operation abandoned at a timeout, or at maxResponseBytes, emits what a request whose client left emits', async () => {
    const cases = [
      ['op-timeout', { operationTimeout: 100 }, 'client-gone'],
      ['batch-timeout', { timeout: 150 }, 'client-gone'],
      ['past-cap', { maxResponseBytes: 4096 }, 'endless-feed'],
    ] as const;
    for (const [id, batch, route] of cases) {
      await withTestApp({ batch, imports: [FidelityModule] }, async (other) => {
        events.length = 0;
        await postBatch(other, [{ method: 'GET', url: `/fid/${route}?who=${id}` }]).expect(200);
        await until(() => events.includes(`${id} close`), `${id} closed`);
      });
      const seen = events.filter((e) => e.startsWith(`${id} `)).map((e) => e.slice(id.length + 1));
      // As test 7's direct request whose client left.
      expect({ id, seen }).toEqual({
        id,
        seen: ['started', 'aborted', 'error ECONNRESET aborted', 'close'],
      });
    }
  });

  it('6a. socket.unref()/ref() work on the operation connection', async () => {
    const seen = await direct(baseOf(t), '/fid/socket-unref');
    expect(seen).toMatchObject({ kind: 'complete', status: 200, body: 'ok' });
    const response = await postBatch(t, [{ method: 'GET', url: '/fid/socket-unref' }]).expect(200);
    // Before the fix, Express answered 500 (`req.socket.unref is not a function`), and
    // Fastify (hijacked) 200 without a body.
    expect(entries(response)[0]).toMatchObject({ code: 200, body: 'ok' });
  });
});
