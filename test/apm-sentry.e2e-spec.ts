import { fileURLToPath } from 'node:url';
import request from 'supertest';
import { startChildApp, type ChildApp } from './utils/child-app.js';
import { forEachPlatform, type Platform } from './utils/platforms.js';
import { until } from './utils/wait-for.js';

/**
 * @sentry/nestjs (the real SDK, set up as its NestJS guide says: test/fixtures/sentry-app.mjs and
 * sentry-instrument.mjs). Sentry forks a scope per request where the server emits `'request'`
 * (it wraps each server's `emit`). Operations enter there too: handed to the app's listener
 * directly, they ran on the SDK's process-wide default scope, where one operation's user, tags
 * and breadcrumbs reached every later event of the process.
 */

/** What the app printed of one event Sentry would have sent (sentry-instrument.mjs, `pick`). */
interface SentryEvent {
  message?: string;
  transaction?: string;
  request?: { url?: string; method?: string; headers?: Record<string, string> };
  user?: { id?: string; ip_address?: string };
  tags?: Record<string, string>;
  breadcrumbs: string[];
  traceId?: string;
}

/** What the app's guard saw: the request and the trace Sentry had active for it. */
interface GuardSeen {
  url: string;
  traceId?: string;
}

interface SentryApp {
  http: ReturnType<typeof request>;
  /** The event of the error thrown by `GET /items/boom/<id>`, once Sentry has built it. */
  eventOf(id: string): Promise<SentryEvent>;
  /** What the guard saw of the request for `url`, the last time it ran for it. */
  guardOf(url: string): GuardSeen | undefined;
  /** The app's `log` lines. */
  log: readonly string[];
  stop(): Promise<void>;
}

const INSTRUMENT = fileURLToPath(new URL('./fixtures/sentry-instrument.mjs', import.meta.url));

async function startSentryApp(
  platform: Platform,
  env: Record<string, string> = {},
): Promise<SentryApp> {
  const child: ChildApp = await startChildApp('sentry-app.mjs', platform, {
    // The guide's ESM form: `node --import ./instrument.mjs main.mjs`.
    NODE_OPTIONS: `--import ${INSTRUMENT}`,
    SENTRY_TRACES: '1',
    ...env,
  });
  const parsed = <T>(prefix: string): T[] =>
    child.log
      .filter((line) => line.startsWith(prefix))
      .map((line) => JSON.parse(line.slice(prefix.length)) as T);
  const events = (): SentryEvent[] => parsed<SentryEvent>('event ');
  return {
    http: request(child.base),
    eventOf: async (id) => {
      const find = (): SentryEvent | undefined =>
        events().find((event) => event.message === `boom ${id}`);
      await until(() => find() !== undefined, `Sentry's event for boom ${id}`);
      return find() as SentryEvent;
    },
    guardOf: (url) =>
      parsed<GuardSeen>('guard ')
        .filter((seen) => seen.url === url)
        .at(-1),
    stop: () => child.stop(),
    log: child.log,
  };
}

interface Entry {
  code: number;
}

function codesOf(body: unknown): number[] {
  return (body as { data: Entry[] }).data.map((entry) => entry.code);
}

/** What of an event says which request it came from. */
function requestPart(event: SentryEvent): object {
  return {
    transaction: event.transaction,
    method: event.request?.method,
    path: event.request?.url && new URL(event.request.url).pathname,
    ip: event.user?.ip_address,
  };
}

/** What of an event says who the request was for, and what happened before it. */
function scopePart(event: SentryEvent): object {
  return { user: event.user?.id, tenant: event.tags?.tenant, breadcrumbs: event.breadcrumbs };
}

forEachPlatform((platform) => {
  describe('@sentry/nestjs: an operation is reported as the request it stands for', () => {
    let app: SentryApp;
    // A fresh app each: what leaks, leaks into the process for good.
    beforeEach(async () => {
      app = await startSentryApp(platform);
    });
    afterEach(() => app.stop());

    it("an operation's error event names the operation's request and route, as a direct request's does", async () => {
      await app.http.get('/items/boom/direct').expect(500);
      const direct = await app.eventOf('direct');
      expect(requestPart(direct)).toEqual({
        transaction: 'GET /items/boom/:id',
        method: 'GET',
        path: '/items/boom/direct',
        ip: '127.0.0.1',
      });

      const batch = await app.http
        .post('/batch')
        .send({ data: [{ method: 'GET', url: '/items/boom/batched' }] })
        .expect(200);
      expect(codesOf(batch.body)).toEqual([500]);
      // Not the batch's request, nor none (as when operations bypassed the 'request' event).
      expect(requestPart(await app.eventOf('batched'))).toEqual({
        transaction: 'GET /items/boom/:id',
        method: 'GET',
        path: '/items/boom/batched',
        ip: '127.0.0.1',
      });
    });

    it("the user, tags and breadcrumbs one operation sets are not in another operation's event", async () => {
      // Directly: alice's request, then another one's, which fails; it has no user of its own.
      await app.http.get('/items/ok/a').set('x-user', 'alice').expect(200);
      await app.http.get('/items/boom/direct').expect(500);
      expect(scopePart(await app.eventOf('direct'))).toEqual({
        user: undefined,
        tenant: undefined,
        breadcrumbs: ['guard GET /items/boom/direct'],
      });

      const batch = await app.http
        .post('/batch')
        .send({
          data: [
            { method: 'GET', url: '/items/ok/a', name: 'a', headers: { 'x-user': 'bob' } },
            { method: 'GET', url: '/items/boom/batched', dependsOn: ['a'] },
          ],
        })
        .expect(200);
      expect(codesOf(batch.body)).toEqual([200, 500]);
      // Not bob, tenant-of-bob and bob's breadcrumb, on the error of a request that never
      // carried bob's credentials.
      expect(scopePart(await app.eventOf('batched'))).toEqual({
        user: undefined,
        tenant: undefined,
        breadcrumbs: ['guard GET /items/boom/batched'],
      });
    });

    it("a batch leaves nothing of its operations' users on later requests' events", async () => {
      const batch = await app.http
        .post('/batch')
        .send({ data: [{ method: 'GET', url: '/items/ok/a', headers: { 'x-user': 'alice' } }] })
        .expect(200);
      expect(codesOf(batch.body)).toEqual([200]);

      // Another client, on a connection of its own, with no user: as after a direct request
      // of alice's (the test above), its event has no user; not alice, tenant-of-alice and
      // every breadcrumb every operation ever left, for as long as the process runs.
      await app.http.get('/items/boom/later').expect(500);
      expect(scopePart(await app.eventOf('later'))).toEqual({
        user: undefined,
        tenant: undefined,
        breadcrumbs: ['guard GET /items/boom/later'],
      });
    });

    it("an operation of alice's run from code before any request leaves nothing on a later request's event", async () => {
      // Sentry wraps a server's `emit` once Node's `http.server.request.start` channel names it,
      // at its first request: operations announce themselves there too, as requests do.
      await app.stop();
      app = await startSentryApp(platform, { FROM_CODE_AT_BOOT: '1' });
      expect(app.log).toContain('from-code 200');
      await app.http.get('/items/boom/later').expect(500);
      expect(scopePart(await app.eventOf('later'))).toEqual({
        user: undefined,
        tenant: undefined,
        breadcrumbs: ['guard GET /items/boom/later'],
      });
    });

    it('an operation continues the trace its sentry-trace header names, as a direct request does', async () => {
      const header = (n: number): string => `${'ab'.repeat(15)}0${n}-${'cd'.repeat(8)}-1`;
      await app.http.get('/items/ok/direct').set('sentry-trace', header(1)).expect(200);
      expect(app.guardOf('/items/ok/direct')?.traceId).toBe(`${'ab'.repeat(15)}01`);

      const first = await app.http
        .post('/batch')
        .send({
          data: [
            { method: 'GET', url: '/items/ok/traced', headers: { 'sentry-trace': header(2) } },
          ],
        })
        .expect(200);
      expect(codesOf(first.body)).toEqual([200]);
      // Not the process-wide scope's trace, whatever the operation carried.
      expect(app.guardOf('/items/ok/traced')?.traceId).toBe(`${'ab'.repeat(15)}02`);
    });

    it('two operations of two batches are two traces, as two direct requests are', async () => {
      // Two direct requests without a trace of their own start two traces; so do two batches'
      // operations (not one trace, shared by every operation the process ever runs).
      await app.http.get('/items/ok/one').expect(200);
      await app.http.get('/items/ok/two').expect(200);
      expect(app.guardOf('/items/ok/one')?.traceId).not.toBe(app.guardOf('/items/ok/two')?.traceId);
      await app.http
        .post('/batch')
        .send({ data: [{ method: 'GET', url: '/items/ok/three' }] })
        .expect(200);
      await app.http
        .post('/batch')
        .send({ data: [{ method: 'GET', url: '/items/ok/four' }] })
        .expect(200);
      expect(app.guardOf('/items/ok/three')?.traceId).not.toBe(
        app.guardOf('/items/ok/four')?.traceId,
      );
    });
  });
});
