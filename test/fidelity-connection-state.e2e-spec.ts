/**
 * State an app keeps on the connection (`req.socket.<name>`), as connection-based
 * authentication does: express-ntlm authenticates the connection once, stores the user on
 * `req.connection.ntlm`, and lets every later request on that connection through. An operation
 * arrives over its batch request's connection, so it sees that state, and what it sets there
 * stays on the connection, as a request sent on it directly does.
 */
import { Controller, Get, Module, Req } from '@nestjs/common';
import { Agent, request as httpRequest } from 'node:http';
import { nodeRequestOf } from './utils/node-response.js';
import { forEachPlatform } from './utils/platforms.js';
import { baseOf } from './utils/raw-http.js';
import { useTestApp } from './utils/test-app.js';

type Kept = { user?: string; visits?: number; idle?: string };

@Controller('conn')
class ConnectionController {
  /** The handshake: authenticates the connection it came on, and counts its visits from 0. */
  @Get('login')
  login(@Req() request: object): { ok: true } {
    // `idle`: a name an operation's socket might use for its own timer.
    Object.assign(nodeRequestOf(request).socket, {
      user: 'alice',
      visits: 0,
      idle: 'kept',
    } satisfies Kept);
    return { ok: true };
  }

  /** Who the connection is authenticated as, counting the requests it served since. */
  @Get('me')
  me(@Req() request: object): { user: string | null; visits: number; idle: string | null } {
    const kept = nodeRequestOf(request).socket as Kept;
    kept.visits = (kept.visits ?? 0) + 1;
    return { user: kept.user ?? null, visits: kept.visits, idle: kept.idle ?? null };
  }
}

@Module({ controllers: [ConnectionController] })
class ConnectionModule {}

/** Sends requests one after the other on one kept-alive connection. */
function onOneConnection(base: string) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const send = (path: string, body?: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const req = httpRequest(new URL(path, base), {
        agent,
        method: body === undefined ? 'GET' : 'POST',
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
      });
      req.on('error', reject);
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve(text));
      });
      req.end(body);
    });
  return { send, close: () => agent.destroy() };
}

forEachPlatform(() => {
  const t = useTestApp({ imports: [ConnectionModule] });

  it("sees the state the app kept on the batch request's connection, and keeps its own there", async () => {
    const direct = onOneConnection(baseOf(t));
    await direct.send('/conn/login');
    expect(JSON.parse(await direct.send('/conn/me'))).toEqual({
      user: 'alice',
      visits: 1,
      idle: 'kept',
    });
    direct.close();

    const batched = onOneConnection(baseOf(t));
    try {
      await batched.send('/conn/login');
      const reply = await batched.send(
        '/batch',
        JSON.stringify({
          data: [
            { name: 'first', method: 'GET', url: '/conn/me' },
            { method: 'GET', url: '/conn/me', dependsOn: ['first'] },
          ],
        }),
      );
      // Before the fix, each operation came on a connection of its own, no one logged in:
      // { user: null, visits: 1 } twice.
      expect((JSON.parse(reply) as { data: { body: unknown }[] }).data.map((e) => e.body)).toEqual([
        { user: 'alice', visits: 1, idle: 'kept' },
        { user: 'alice', visits: 2, idle: 'kept' },
      ]);
      // What the operations kept stays on the connection, for the requests after the batch.
      expect(JSON.parse(await batched.send('/conn/me'))).toEqual({
        user: 'alice',
        visits: 3,
        idle: 'kept',
      });
    } finally {
      batched.close();
    }
  });

  it('gives no state to an operation whose batch came on a connection without any', async () => {
    const fresh = onOneConnection(baseOf(t));
    try {
      const reply = await fresh.send(
        '/batch',
        JSON.stringify({ data: [{ method: 'GET', url: '/conn/me' }] }),
      );
      expect((JSON.parse(reply) as { data: { body: unknown }[] }).data[0]?.body).toEqual({
        user: null,
        visits: 1,
        idle: null,
      });
    } finally {
      fresh.close();
    }
  });
});
