/**
 * Cookies across the parts of a multipart/mixed batch. Parts run one after the other, so a
 * browser sending them as requests would end each in the state the one before left: a login's
 * new session cookie is sent by the parts after it, and a logout's Clear-Site-Data leaves them
 * none. Parts take the batch request's headers as their own, the Cookie too; that copy must not
 * count as a cookie the part wrote itself, which the batch's jar would leave alone.
 */
import { Controller, Header, HttpCode, Module, Post, Res } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { forEachPlatform } from './utils/platforms.js';
import { postRaw } from './utils/raw-http.js';
import { entries, postBatch, useTestApp } from './utils/test-app.js';

@Controller('mp-session')
class SessionController {
  constructor(private readonly host: HttpAdapterHost) {}

  @Post('login')
  @HttpCode(200)
  login(@Res({ passthrough: true }) response: object): object {
    this.host.httpAdapter.appendHeader(response, 'set-cookie', 'sid=NEW; Path=/; HttpOnly');
    return { ok: true };
  }

  @Post('logout')
  @HttpCode(200)
  @Header('clear-site-data', '"cookies"')
  logout(): object {
    return { ok: true };
  }
}

@Module({ controllers: [SessionController] })
class SessionModule {}

/** A multipart/mixed batch of the given requests, each an `application/http` part. */
function multipart(...requests: string[]): string {
  return [
    ...requests.flatMap((request) => ['--b', 'Content-Type: application/http', '', request, '']),
    '--b--',
    '',
  ].join('\r\n');
}

/** The Cookie header `/echo` saw, in a multipart reply (its JSON body). */
function echoedCookie(text: string): string | null {
  const match = /"cookie":"([^"]*)"/.exec(text);
  return match ? (match[1] ?? null) : null;
}

forEachPlatform(() => {
  const t = useTestApp({ imports: [SessionModule] });
  const asBrowser = { 'content-type': 'multipart/mixed; boundary=b', cookie: 'sid=OLD' };

  it('sends the session cookie a login part set to the parts after it, as native does', async () => {
    const native = await postBatch(
      t,
      [
        { name: 'login', method: 'POST', url: '/mp-session/login' },
        { method: 'GET', url: '/echo', dependsOn: ['login'] },
      ],
      { cookie: 'sid=OLD' },
    ).expect(200);
    expect(entries(native)[1]?.body.headers.cookie).toBe('sid=NEW');
    const reply = await postRaw(
      t,
      multipart('POST /mp-session/login HTTP/1.1\r\n', 'GET /echo HTTP/1.1\r\n'),
      asBrowser,
    );
    // Before the fix: sid=OLD, the batch request's copy taken for the part's own.
    expect(echoedCookie(reply.text)).toBe('sid=NEW');
  });

  it('leaves the parts after a logout no cookie, as native does', async () => {
    const native = await postBatch(
      t,
      [
        { name: 'logout', method: 'POST', url: '/mp-session/logout' },
        { method: 'GET', url: '/echo', dependsOn: ['logout'] },
      ],
      { cookie: 'sid=OLD' },
    ).expect(200);
    expect(entries(native)[1]?.body.headers.cookie).toBeUndefined();
    const reply = await postRaw(
      t,
      multipart('POST /mp-session/logout HTTP/1.1\r\n', 'GET /echo HTTP/1.1\r\n'),
      asBrowser,
    );
    expect(reply.headers['clear-site-data']).toBe('"cookies"');
    // Before the fix: sid=OLD, though the reply told the browser to delete it.
    expect(echoedCookie(reply.text)).toBeNull();
  });

  it("keeps a Cookie a part wrote itself, as it keeps any header of the part's own", async () => {
    const reply = await postRaw(
      t,
      multipart('POST /mp-session/login HTTP/1.1\r\n', 'GET /echo HTTP/1.1\r\nCookie: mine=1\r\n'),
      asBrowser,
    );
    expect(echoedCookie(reply.text)).toBe('mine=1');
  });
});
