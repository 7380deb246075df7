/**
 * replyWriteTimeout over HTTP/2 (Fastify `http2: true`), as over HTTP/1 (security.md,
 * test/hostile-reply.e2e-spec.ts). Before the fix the watchdog read the pending bytes of
 * `response.socket`, over HTTP/2 the session's socket, shared by every stream: the unread reply
 * waits in its own stream behind flow control, nothing ever looked pending, and a client that
 * opened batches and never read kept each whole reply (up to maxReplyBytes) in the server's
 * memory for as long as it kept the session open.
 */
import { connect, type ClientHttp2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fastifyHttp2Platform } from './utils/platforms.js';
import { useTestApp } from './utils/test-app.js';

const MiB = 1024 * 1024;

describe('Fastify over HTTP/2: replyWriteTimeout', () => {
  const t = useTestApp({
    platform: fastifyHttp2Platform,
    batch: { replyWriteTimeout: 500, maxReplyBytes: 64 * MiB },
  });

  let session: ClientHttp2Session | undefined;
  afterEach(() => session?.destroy());

  it('ends a reply the client does not read, as over HTTP/1', async () => {
    const { port } = t.app.getHttpServer().address() as AddressInfo;
    session = connect(`http://127.0.0.1:${port}`);
    session.on('error', () => undefined);
    const stream = session.request({
      ':method': 'POST',
      ':path': '/batch',
      'content-type': 'application/json',
    });
    stream.on('error', () => undefined);
    let status = 0;
    stream.on('response', (head) => (status = Number(head[':status'])));
    const seen = { closed: false };
    stream.on('close', () => (seen.closed = true));
    stream.pause(); // never reads a byte of the body
    stream.end(
      JSON.stringify({
        data: Array.from({ length: 4 }, () => ({ method: 'GET', url: '/big/4000000' })),
      }),
    );
    // The batch has run and its reply is being written once the headers came.
    for (const end = Date.now() + 5_000; status === 0 && Date.now() < end;) await sleep(20);
    expect(status).toBe(200);
    // Over HTTP/1 the reply is destroyed within 1.25 x replyWriteTimeout; ten times that here.
    for (const end = Date.now() + 5_000; !seen.closed && Date.now() < end;) await sleep(50);
    expect(seen.closed).toBe(true);
  }, 20_000);
});
