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

async function startTracedApp(platform: Platform): Promise<TracedApp> {
  const child: ChildProcess = spawn(
    process.execPath,
    [fileURLToPath(new URL('./fixtures/traced-app.mjs', import.meta.url))],
    {
      env: { ...process.env, NODE_OPTIONS: '', PLATFORM: platform.name },
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

const isBatchSpan = (span: Span): boolean =>
  span.scope === '@opentelemetry/instrumentation-http' && span.attributes['url.path'] === '/batch';

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
      const operations = inTrace.filter((span) => span.scope === 'nestjs-batch');
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
      // What the app reads from `traceparent` names the operation's span, not the caller's.
      for (const index of [1, 2]) {
        const operation = operations.find(
          (span) => span.attributes['nestjs_batch.operation.index'] === index,
        ) as Span;
        expect(seen[index]?.traceparent).toBe(`00-${batchSpan.traceId}-${operation.spanId}-01`);
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

    it('an operation abandoned at operationTimeout ends its span with an error', async () => {
      await app.reset();
      const response = await app.http
        .post('/batch')
        .send({ data: [{ method: 'GET', url: '/items/slow/now' }] })
        .expect(200);
      expect((response.body as { data: { code: number }[] }).data[0]?.code).toBe(504);
      const spans = await app.spans((all) => all.some(isBatchSpan));
      const batchSpan = spans.find(isBatchSpan) as Span;
      const operations = spans.filter((span) => span.scope === 'nestjs-batch');
      expect(operations).toEqual([
        expect.objectContaining({
          name: 'GET',
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
