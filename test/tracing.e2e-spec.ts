import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import request from 'supertest';
import { forEachPlatform, type Platform } from './utils/platforms.js';

/** A finished span, as test/fixtures/traced-app.mjs sends it. */
interface Span {
  name: string;
  kind: number;
  scope: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  attributes: Record<string, unknown>;
  status: { code: number; message?: string };
}

interface TracedApp {
  http: ReturnType<typeof request>;
  /** The spans finished so far, once `ready` holds of them. */
  spans(ready: (spans: Span[]) => boolean): Promise<Span[]>;
  /** Forgets the spans finished so far. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

const SERVER = 1;
const INTERNAL = 0;
const ERROR = 2;
const UNSET = 0;

async function startTracedApp(
  platform: Platform,
  env: Record<string, string> = {},
): Promise<TracedApp> {
  const child: ChildProcess = spawn(
    process.execPath,
    [fileURLToPath(new URL('./fixtures/traced-app.mjs', import.meta.url))],
    {
      env: { ...process.env, NODE_OPTIONS: '', PLATFORM: platform.name, ...env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message: { listening: number }) => resolve(message.listening));
    child.once('exit', (code) => reject(new Error(`traced app exited with ${String(code)}`)));
  });
  const ask = (): Promise<Span[]> =>
    new Promise((resolve) => {
      child.once('message', (spans: Span[]) => resolve(spans));
      child.send('spans');
    });
  return {
    http: request(`http://127.0.0.1:${port}`),
    spans: async (ready) => {
      // The batch request's span ends when its response has been handed to the socket, which
      // can be just after the client read it: ask again until it has (a generous bound, for a
      // loaded machine; past it, the caller's assertions say what is missing).
      for (const end = Date.now() + 10_000; Date.now() < end;) {
        const spans = await ask();
        if (ready(spans)) return spans;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return ask();
    },
    reset: () =>
      new Promise((resolve) => {
        child.once('message', () => resolve());
        child.send('reset');
      }),
    stop: async () => {
      child.kill('SIGTERM');
      if (child.exitCode === null) await once(child, 'exit');
    },
  };
}

/** create, then read what it created (dependent); read 7 and a 500, in parallel. */
const batch = [
  { method: 'POST', url: '/items', name: 'create', body: {} },
  { method: 'GET', url: '/items/{result=create:$.id}', name: 'read', dependsOn: ['create'] },
  { method: 'GET', url: '/items/7' },
  { method: 'GET', url: '/items/boom/now', name: 'boom' },
];

/** The instrumentation that makes a request's span: a direct one's, and an operation's. */
const HTTP_SCOPE = '@opentelemetry/instrumentation-http';

const isBatchSpan = (span: Span): boolean =>
  span.scope === HTTP_SCOPE && span.attributes['url.path'] === '/batch';

/** An operation's span: the one the library names with the operation's index. */
const isOperationSpan = (span: Span): boolean =>
  span.attributes['nestjs_batch.operation.index'] !== undefined;

/** True when `span` is `ancestor` or below it. */
function descends(spans: Span[], span: Span | undefined, ancestor: Span): boolean {
  let at = span;
  while (at) {
    if (at.spanId === ancestor.spanId) return true;
    const parentId = at.parentSpanId;
    at = spans.find((s) => s.spanId === parentId);
  }
  return false;
}

forEachPlatform((platform) => {
  describe('OpenTelemetry: each operation is a span of the batch request', () => {
    let app: TracedApp;
    beforeAll(async () => {
      app = await startTracedApp(platform);
    });
    afterAll(() => app.stop());

    async function traceOf(headers: Record<string, string>) {
      await app.reset();
      const response = await app.http.post('/batch').set(headers).send({ data: batch }).expect(200);
      const entries = (response.body as { data: { code: number; body: Record<string, string> }[] })
        .data;
      const spans = await app.spans((all) => all.some(isBatchSpan));
      const batchSpans = spans.filter(isBatchSpan);
      expect(batchSpans).toHaveLength(1);
      const batchSpan = batchSpans[0] as Span;
      const inTrace = spans.filter((span) => span.traceId === batchSpan.traceId);
      const operations = inTrace.filter(isOperationSpan);
      return { entries, batchSpan, inTrace, operations };
    }

    function expectOperationTree(trace: Awaited<ReturnType<typeof traceOf>>): void {
      const { entries, batchSpan, inTrace, operations } = trace;
      expect(entries.map((entry) => entry.code)).toEqual([201, 200, 200, 500]);
      const createdId = entries[0]?.body.id as string;
      expect(
        operations
          .map((span) => ({
            name: span.name,
            kind: span.kind,
            parent: span.parentSpanId,
            status: span.status.code,
            attributes: span.attributes,
          }))
          .sort(
            (a, b) =>
              (a.attributes['nestjs_batch.operation.index'] as number) -
              (b.attributes['nestjs_batch.operation.index'] as number),
          ),
      ).toEqual([
        {
          name: 'POST /items',
          kind: SERVER,
          parent: batchSpan.spanId,
          status: UNSET,
          attributes: expect.objectContaining({
            'http.request.method': 'POST',
            'url.path': '/items',
            'url.scheme': 'http',
            'http.route': '/items',
            'http.response.status_code': 201,
            'nestjs_batch.operation.index': 0,
            'nestjs_batch.operation.name': 'create',
          }),
        },
        {
          name: 'GET /items/:id',
          kind: SERVER,
          parent: batchSpan.spanId,
          status: UNSET,
          attributes: expect.objectContaining({
            'http.request.method': 'GET',
            'url.path': `/items/${createdId}`,
            'http.route': '/items/:id',
            'http.response.status_code': 200,
            'nestjs_batch.operation.index': 1,
            'nestjs_batch.operation.name': 'read',
          }),
        },
        {
          name: 'GET /items/:id',
          kind: SERVER,
          parent: batchSpan.spanId,
          status: UNSET,
          attributes: expect.objectContaining({
            'url.path': '/items/7',
            'http.route': '/items/:id',
            'http.response.status_code': 200,
            'nestjs_batch.operation.index': 2,
          }),
        },
        {
          name: 'GET /items/boom/now',
          kind: SERVER,
          parent: batchSpan.spanId,
          status: ERROR,
          attributes: expect.objectContaining({
            'http.route': '/items/boom/now',
            'http.response.status_code': 500,
            'nestjs_batch.operation.index': 3,
            'nestjs_batch.operation.name': 'boom',
          }),
        },
      ]);
      // An unnamed operation has no name attribute rather than an empty one.
      expect(
        operations.find((s) => s.attributes['url.path'] === '/items/7')?.attributes,
      ).not.toHaveProperty('nestjs_batch.operation.name');
      // The operations' routes did not leak into the batch request's span.
      expect(batchSpan.attributes['http.route']).toBe('/batch');
      expect(batchSpan.kind).toBe(SERVER);

      const frameworkScope =
        platform.name === 'express' ? '@opentelemetry/instrumentation-express' : '@fastify/otel';
      for (const [index, operation] of operations.entries()) {
        // The app's own instrumentation made its spans under the operation's.
        const own = inTrace.filter(
          (span) => span.scope === frameworkScope && span.parentSpanId === operation.spanId,
        );
        expect({ index, own: own.length > 0 }).toEqual({ index, own: true });
        // The framework's spans below an operation are never SERVER spans of their own.
        for (const span of inTrace.filter(
          (s) => s.scope === frameworkScope && descends(inTrace, s, operation),
        )) {
          expect(span.kind).toBe(INTERNAL);
        }
      }
      // Each handler ran inside its operation's span, with a CLS store of its own.
      const seen = entries.slice(0, 3).map((entry) => entry.body);
      for (const [index, body] of seen.entries()) {
        const operation = operations.find(
          (span) => span.attributes['nestjs_batch.operation.index'] === index,
        ) as Span;
        const active = inTrace.find((span) => span.spanId === body.activeSpan);
        expect({ index, under: descends(inTrace, active, operation) }).toEqual({
          index,
          under: true,
        });
      }
      // What the app reads from `traceparent` names the operation's parent, the batch request's
      // span, as a direct request's `traceparent` names its caller's.
      for (const index of [1, 2]) {
        expect(seen[index]?.traceparent).toBe(`00-${batchSpan.traceId}-${batchSpan.spanId}-01`);
      }
      const clsIds = seen.map((body) => body.cls);
      expect(clsIds.every((id) => typeof id === 'string' && id !== '')).toBe(true);
      expect(new Set(clsIds).size).toBe(3);
    }

    it('without an incoming traceparent: a new trace, the operations children of POST /batch', async () => {
      const trace = await traceOf({});
      expect(trace.batchSpan.parentSpanId).toBeUndefined();
      expectOperationTree(trace);
    });

    it("with an incoming traceparent: the caller's trace, the operations children of POST /batch", async () => {
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      const caller = '00f067aa0ba902b7';
      const trace = await traceOf({ traceparent: `00-${traceId}-${caller}-01` });
      expect(trace.batchSpan.traceId).toBe(traceId);
      expect(trace.batchSpan.parentSpanId).toBe(caller);
      expectOperationTree(trace);
    });

    it("an operation's span is the one a direct request gets, named and placed in the batch", async () => {
      await app.reset();
      await app.http.get('/items/7').expect(200);
      await app.http
        .post('/batch')
        .send({ data: [{ method: 'GET', url: '/items/7', name: 'seven' }] })
        .expect(200);
      const spans = await app.spans((all) => all.some(isBatchSpan));
      const batchSpan = spans.find(isBatchSpan) as Span;
      const ofSeven = spans.filter(
        (span) => span.scope === HTTP_SCOPE && span.attributes['url.path'] === '/items/7',
      );
      expect(ofSeven).toHaveLength(2);
      const [direct, operation] = [
        ofSeven.find((span) => !isOperationSpan(span)) as Span,
        ofSeven.find(isOperationSpan) as Span,
      ];
      // Each connection's own port aside, the same span, from the same instrumentation (its
      // hooks, its metrics); the operation's has its place in the batch besides.
      const shape = (span: Span) => {
        const attributes = { ...span.attributes };
        delete attributes['network.peer.port'];
        return { name: span.name, kind: span.kind, status: span.status, attributes };
      };
      expect(shape(operation)).toEqual({
        ...shape(direct),
        attributes: {
          ...shape(direct).attributes,
          'nestjs_batch.operation.index': 0,
          'nestjs_batch.operation.name': 'seven',
        },
      });
      expect(direct.parentSpanId).toBeUndefined();
      expect(operation.parentSpanId).toBe(batchSpan.spanId);
      expect(operation.traceId).toBe(batchSpan.traceId);
    });

    it.each([
      // Its own wins over the inherited one (docs/operations.md).
      ['its own baggage', { baggage: 'tenant=b' }, 'tenant=b'],
      // It inherits the batch request's, as the caller's own direct request would carry it.
      ['no baggage', {}, 'tenant=a'],
    ])(
      'an operation that sets %s reads what a direct request with it reads',
      async (_, headers, sent) => {
        const direct = await app.http.get('/items/bag/now').set('baggage', sent).expect(200);
        expect(direct.body).toEqual({
          header: sent,
          entries: { tenant: sent.slice('tenant='.length) },
        });
        // The batch request carries baggage of its own (a traced caller's).
        const batch = await app.http
          .post('/batch')
          .set('baggage', 'tenant=a')
          .send({ data: [{ method: 'GET', url: '/items/bag/now', headers }] })
          .expect(200);
        const [entry] = (batch.body as { data: { code: number; body: unknown }[] }).data;
        expect(entry).toMatchObject({ code: 200, body: direct.body as unknown });
      },
    );

    it('an operation abandoned at operationTimeout ends its span with an error', async () => {
      await app.reset();
      const response = await app.http
        .post('/batch')
        .send({ data: [{ method: 'GET', url: '/items/slow/now' }] })
        .expect(200);
      expect((response.body as { data: { code: number }[] }).data[0]?.code).toBe(504);
      const spans = await app.spans((all) => all.some(isBatchSpan));
      const batchSpan = spans.find(isBatchSpan) as Span;
      const operations = spans.filter(
        (span) => span.scope === HTTP_SCOPE && span.attributes['url.path'] === '/items/slow/now',
      );
      expect(operations).toEqual([
        expect.objectContaining({
          name: 'GET /items/slow/now',
          kind: SERVER,
          parentSpanId: batchSpan.spanId,
          status: { code: ERROR, message: 'abandoned before the app answered' },
          attributes: expect.objectContaining({
            'error.type': 'nestjs_batch.abandoned',
            'url.path': '/items/slow/now',
          }),
        }),
      ]);
    });
  });

  // @fastify/otel traces a Fastify app on its own; on Express, nothing would trace the batch.
  if (platform.name === 'fastify') {
    describe('without instrumentation-http', () => {
      let app: TracedApp;
      beforeAll(async () => {
        app = await startTracedApp(platform, { HTTP_INSTRUMENTATION: '0' });
      });
      afterAll(() => app.stop());

      it("the library makes each operation's span under the batch request's, and its traceparent names it", async () => {
        const response = await app.http
          .post('/batch')
          .send({ data: [{ method: 'GET', url: '/items/7', name: 'seven' }] })
          .expect(200);
        const [entry] = (response.body as { data: { body: Record<string, string> }[] }).data;
        const spans = await app.spans((all) => all.some((span) => span.scope === 'nestjs-batch'));
        const operation = spans.find((span) => span.scope === 'nestjs-batch') as Span;
        const batchSpan = spans.find((span) => span.spanId === operation.parentSpanId);
        expect(batchSpan?.scope).toBe('@fastify/otel');
        expect(operation).toMatchObject({
          name: 'GET /items/:id',
          kind: SERVER,
          traceId: batchSpan?.traceId,
          attributes: expect.objectContaining({
            'http.request.method': 'GET',
            'url.path': '/items/7',
            'http.route': '/items/:id',
            'http.response.status_code': 200,
            'nestjs_batch.operation.index': 0,
            'nestjs_batch.operation.name': 'seven',
          }) as unknown,
        });
        expect(entry?.body.traceparent).toBe(`00-${operation.traceId}-${operation.spanId}-01`);
      });
    });
  }

  it('an app without @opentelemetry/api serves batches unchanged', async () => {
    // The throttled app, in a process that cannot resolve the package (bench/without-otel-api.mjs).
    const child = spawn(
      process.execPath,
      [
        '--import',
        fileURLToPath(new URL('../bench/without-otel-api.mjs', import.meta.url)),
        fileURLToPath(new URL('./fixtures/throttled-app.mjs', import.meta.url)),
      ],
      {
        env: { ...process.env, NODE_OPTIONS: '', PLATFORM: platform.name, THROTTLE_LIMIT: '100' },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    try {
      let output = '';
      const port = await new Promise<number>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          const match = /listening (\d+)/.exec(output);
          if (match) resolve(Number(match[1]));
        });
        child.once('exit', (code) => reject(new Error(`app exited with ${String(code)}`)));
      });
      const response = await request(`http://127.0.0.1:${port}`)
        .post('/batch')
        .send({
          data: [
            { method: 'GET', url: '/echo' },
            { method: 'GET', url: '/echo' },
          ],
        })
        .expect(200);
      expect(
        (response.body as { data: { code: number }[] }).data.map((entry) => entry.code),
      ).toEqual([200, 200]);
    } finally {
      child.kill('SIGTERM');
      if (child.exitCode === null) await once(child, 'exit');
    }
  });
});
