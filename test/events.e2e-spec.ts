import { Injectable, Module } from '@nestjs/common';
import {
  BatchExecutor,
  BatchListener,
  type BatchEventListener,
  type BatchFinishEvent,
  type BatchOperationFinishEvent,
  type BatchStartEvent,
} from 'nestjs-batch';
import { Registry } from 'prom-client';
import { BatchMetricsListener } from '../sample/src/metrics/batch-metrics.listener.js';
import { forEachPlatform } from './utils/platforms.js';
import { entries, postBatch, withTestApp } from './utils/test-app.js';

type Event =
  | { type: 'start'; event: BatchStartEvent }
  | { type: 'operation'; event: BatchOperationFinishEvent }
  | { type: 'finish'; event: BatchFinishEvent };

/** What the listeners of this suite heard, in order. */
const heard: Event[] = [];

@BatchListener()
@Injectable()
class RecordingListener implements BatchEventListener {
  onBatchStart(event: BatchStartEvent): void {
    heard.push({ type: 'start', event });
  }
  onOperationFinish(event: BatchOperationFinishEvent): void {
    heard.push({ type: 'operation', event });
  }
  onBatchFinish(event: BatchFinishEvent): void {
    heard.push({ type: 'finish', event });
  }
}

@BatchListener()
@Injectable()
class ThrowingListener implements BatchEventListener {
  onBatchStart(): void {
    throw new Error('listener bug at start');
  }
  onOperationFinish(): void {
    throw new Error('listener bug per operation');
  }
  onBatchFinish(): Promise<void> {
    return Promise.reject(new Error('listener bug, asynchronously'));
  }
}

/** Not marked: a provider with the methods alone is not a listener. */
@Injectable()
class UnmarkedListener implements BatchEventListener {
  onBatchStart(event: BatchStartEvent): void {
    heard.push({ type: 'start', event: { ...event, batchId: -1 } });
  }
}

@Module({ providers: [RecordingListener, UnmarkedListener] })
class RecordingModule {}

@Module({ providers: [ThrowingListener, RecordingListener] })
class ThrowingModule {}

const startOf = (): BatchStartEvent =>
  (heard.find((e) => e.type === 'start') as { event: BatchStartEvent }).event;
const finishOf = (): BatchFinishEvent =>
  (heard.find((e) => e.type === 'finish') as { event: BatchFinishEvent }).event;
const operationsOf = (): BatchOperationFinishEvent[] =>
  heard
    .filter((e): e is Extract<Event, { type: 'operation' }> => e.type === 'operation')
    .map((e) => e.event)
    .sort((a, b) => a.index - b.index);

forEachPlatform(() => {
  describe('batch events', () => {
    beforeEach(() => {
      heard.length = 0;
    });

    it('tells a listener the start, each operation (status, duration, reason) and the end', () =>
      withTestApp(
        { imports: [RecordingModule], batch: { operationTimeout: 200, exclude: ['/boom'] } },
        async (t) => {
          const response = await postBatch(t, [
            { method: 'POST', url: '/items', name: 'made', body: { name: 'pen' } },
            { method: 'GET', url: '/items/{result=made:$.id}', dependsOn: ['made'] },
            { method: 'GET', url: '/items/999', name: 'missing' },
            { method: 'GET', url: '/items/1', dependsOn: ['missing'] },
            { method: 'GET', url: '/boom' },
            { method: 'GET', url: '/slow/1000' },
          ]).expect(200);
          const codes = entries(response).map((entry) => entry?.code);
          expect(codes).toEqual([201, 200, 404, 424, 403, 504]);

          expect(heard.map((e) => e.type)).toEqual([
            'start',
            ...codes.map(() => 'operation'),
            'finish',
          ]);
          const start = startOf();
          expect(start).toEqual({
            batchId: expect.any(Number),
            format: 'native',
            operationCount: 6,
            request: expect.objectContaining({ method: 'POST', url: '/batch' }),
          });
          const operations = operationsOf();
          expect(operations.map((operation) => ({ ...operation, durationMs: 0 }))).toEqual([
            {
              batchId: start.batchId,
              index: 0,
              name: 'made',
              method: 'POST',
              url: '/items',
              status: 201,
              durationMs: 0,
              reason: undefined,
            },
            {
              batchId: start.batchId,
              index: 1,
              name: undefined,
              method: 'GET',
              url: `/items/${String(entries(response)[0]?.body.id)}`,
              status: 200,
              durationMs: 0,
              reason: undefined,
            },
            {
              batchId: start.batchId,
              index: 2,
              name: 'missing',
              method: 'GET',
              url: '/items/999',
              status: 404,
              durationMs: 0,
              reason: undefined,
            },
            {
              batchId: start.batchId,
              index: 3,
              name: undefined,
              method: 'GET',
              url: '/items/1',
              status: 424,
              durationMs: 0,
              reason: 'dependency-failed',
            },
            {
              batchId: start.batchId,
              index: 4,
              name: undefined,
              method: 'GET',
              url: '/boom',
              status: 403,
              durationMs: 0,
              reason: 'excluded',
            },
            {
              batchId: start.batchId,
              index: 5,
              name: undefined,
              method: 'GET',
              url: '/slow/1000',
              status: 504,
              durationMs: 0,
              reason: 'operation-timeout',
            },
          ]);
          for (const operation of operations)
            expect(operation.durationMs).toBeGreaterThanOrEqual(0);
          // The timed-out operation ran until operationTimeout.
          expect(operations[5]?.durationMs).toBeGreaterThanOrEqual(190);
          const finish = finishOf();
          expect(finish).toEqual({
            ...start,
            end: 'completed',
            durationMs: expect.any(Number),
            finished: 6,
            refused: 2,
            timedOut: 1,
            unfinished: 0,
          });
          expect(finish.durationMs).toBeGreaterThanOrEqual(operations[5]?.durationMs ?? 0);
        },
      ));

    it("names the library's refusals made by its guard: @SkipBatch, a nested batch", () =>
      withTestApp({ imports: [RecordingModule] }, async (t) => {
        const response = await postBatch(t, [
          { method: 'GET', url: '/vault' },
          { method: 'POST', url: '/batch', body: { data: [{ method: 'GET', url: '/echo' }] } },
          { method: 'GET', url: '/echo' },
        ]).expect(200);
        expect(entries(response).map((entry) => entry?.body.reason)).toEqual([
          'skip-batch',
          'nested-batch',
          undefined,
        ]);
        expect(operationsOf().map((operation) => [operation.status, operation.reason])).toEqual([
          [403, 'skip-batch'],
          [403, 'nested-batch'],
          [200, undefined],
        ]);
        expect(finishOf()).toMatchObject({ finished: 3, refused: 2 });
      }));

    it('at the batch timeout: the end is timed-out and the unfinished are counted', () =>
      withTestApp({ imports: [RecordingModule], batch: { timeout: 300 } }, async (t) => {
        const response = await postBatch(t, [
          { method: 'GET', url: '/items/999' },
          { method: 'GET', url: '/hang' },
        ]).expect(200);
        expect(entries(response).map((entry) => entry?.code ?? null)).toEqual([404, null]);
        expect(operationsOf().map((e) => e.index)).toEqual([0]);
        expect(finishOf()).toEqual(
          expect.objectContaining({
            end: 'timed-out',
            finished: 1,
            refused: 0,
            timedOut: 1,
            unfinished: 1,
          }),
        );
      }));

    it('names the format, and a batch run from code has none', () =>
      withTestApp({ imports: [RecordingModule] }, async (t) => {
        await t.http
          .post('/batch')
          .send({ batch: [{ method: 'GET', relative_url: 'items/999' }] })
          .expect(200);
        expect(startOf()).toEqual(
          expect.objectContaining({ format: 'facebook', operationCount: 1 }),
        );
        heard.length = 0;
        await t.app.get(BatchExecutor).execute([{ method: 'GET', url: '/items/999' }]);
        expect(startOf()).toEqual(
          expect.objectContaining({ format: undefined, request: undefined, operationCount: 1 }),
        );
        expect(finishOf()).toEqual(expect.objectContaining({ end: 'completed', finished: 1 }));
      }));

    it('a listener that throws or rejects breaks nothing: the batch answers, other listeners hear it', () =>
      withTestApp({ imports: [ThrowingModule] }, async (t) => {
        for (let round = 0; round < 2; round++) {
          heard.length = 0;
          const response = await postBatch(t, [
            { method: 'POST', url: '/items', name: 'made', body: { name: 'cup' } },
            { method: 'GET', url: '/items/{result=made:$.id}', dependsOn: ['made'] },
          ]).expect(200);
          expect(entries(response).map((entry) => entry?.code)).toEqual([201, 200]);
          expect(heard.map((e) => e.type)).toEqual(['start', 'operation', 'operation', 'finish']);
        }
        await t.http.get('/items/999').expect(404);
      }));

    it('feeds prom-client in a few lines (the sample listener)', async () => {
      const registry = new Registry();
      @Module({ providers: [{ provide: Registry, useValue: registry }, BatchMetricsListener] })
      class MetricsModule {}
      await withTestApp({ imports: [MetricsModule], batch: { exclude: ['/boom'] } }, async (t) => {
        await postBatch(t, [
          { method: 'GET', url: '/items/999' },
          { method: 'GET', url: '/items/998' },
          { method: 'GET', url: '/boom' },
        ]).expect(200);
        const metrics = await registry.getMetricsAsJSON();
        const operations = metrics.find((m) => m.name === 'batch_operations_total');
        expect(
          operations?.values
            .map((v) => ({ labels: v.labels, value: v.value }))
            .sort((a, b) => b.value - a.value),
        ).toEqual([
          { labels: { status: 404, reason: 'none' }, value: 2 },
          { labels: { status: 403, reason: 'excluded' }, value: 1 },
        ]);
        const batches = metrics.find((m) => m.name === 'batch_duration_seconds');
        expect(
          batches?.values.find(
            (v) =>
              (v as { metricName?: string }).metricName === 'batch_duration_seconds_count' &&
              v.labels.format === 'native',
          ),
        ).toEqual(
          expect.objectContaining({ value: 1, labels: { format: 'native', end: 'completed' } }),
        );
      });
    });
  });
});
