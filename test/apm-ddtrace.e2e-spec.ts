import request from 'supertest';
import { startChildApp, type ChildApp } from './utils/child-app.js';
import { forEachPlatform, type Platform } from './utils/platforms.js';
import { until } from './utils/wait-for.js';

/**
 * dd-trace (the real tracer, loaded as Datadog's docs say for ESM: `--import
 * dd-trace/initialize.mjs`, every plugin on; test/fixtures/ddtrace-app.mjs). dd-trace starts a
 * request's span where the server emits `'request'`, which operations enter by: handed to the
 * app's listener directly, they had no span, and their errors were in no trace and no per-route
 * error rate. dd-trace does not go through OpenTelemetry (docs/observability.md).
 */

/** A span as the log exporter writes it (the fields read here). */
interface DdSpan {
  trace_id: string;
  span_id: string;
  parent_id: string;
  name: string;
  resource: string;
  error: number;
  meta: Record<string, string>;
}

interface TracedApp {
  http: ReturnType<typeof request>;
  spans(): DdSpan[];
  stop(): Promise<void>;
}

async function startTracedApp(platform: Platform): Promise<TracedApp> {
  const child: ChildApp = await startChildApp('ddtrace-app.mjs', platform, {
    NODE_OPTIONS: '--import dd-trace/initialize.mjs',
    DD_TRACE_EXPERIMENTAL_EXPORTER: 'log',
    DD_TRACE_STARTUP_LOGS: 'false',
    DD_INSTRUMENTATION_TELEMETRY_ENABLED: 'false',
    DD_REMOTE_CONFIGURATION_ENABLED: 'false',
  });
  return {
    http: request(child.base),
    spans: () =>
      child.log
        .filter((line) => line.startsWith('{"traces"'))
        .flatMap((line) => (JSON.parse(line) as { traces: DdSpan[][] }).traces.flat()),
    stop: () => child.stop(),
  };
}

/** The request span of the request for `path`, as the tracer reports it. */
function requestSpan(spans: DdSpan[], path: string): object | undefined {
  const span = spans.find(
    (one) => one.name.endsWith('.request') && one.meta['http.url']?.endsWith(path),
  );
  return (
    span && {
      resource: span.resource,
      error: span.error,
      status: span.meta['http.status_code'],
      route: span.meta['http.route'],
      user: span.meta['usr.id'],
    }
  );
}

forEachPlatform((platform) => {
  describe('dd-trace: an operation is a request span, as the request it stands for is', () => {
    let app: TracedApp;
    beforeAll(async () => {
      app = await startTracedApp(platform);
    });
    afterAll(() => app.stop());

    it('an operation that fails has its request span, with its route, status, error and user', async () => {
      await app.http.get('/items/boom/direct').set('x-user', 'alice').expect(500);
      await until(
        () => requestSpan(app.spans(), '/items/boom/direct') !== undefined,
        'the direct request span',
      );
      expect(requestSpan(app.spans(), '/items/boom/direct')).toEqual({
        resource: 'GET /items/boom/:id',
        error: 1,
        status: '500',
        route: '/items/boom/:id',
        user: 'alice',
      });

      const batch = await app.http
        .post('/batch')
        .send({
          data: [{ method: 'GET', url: '/items/boom/batched', headers: { 'x-user': 'alice' } }],
        })
        .expect(200);
      expect((batch.body as { data: { code: number }[] }).data[0]?.code).toBe(500);
      await until(
        () => app.spans().some((span) => span.meta['http.url']?.endsWith('/batch')),
        "the batch request's span",
      );
      // Its own span, not only `POST /batch`'s 200 without an error.
      await until(
        () => requestSpan(app.spans(), '/items/boom/batched') !== undefined,
        "the operation's request span",
        3_000,
      );
      expect(requestSpan(app.spans(), '/items/boom/batched')).toEqual({
        resource: 'GET /items/boom/:id',
        error: 1,
        status: '500',
        route: '/items/boom/:id',
        user: 'alice',
      });
    });
  });
});
