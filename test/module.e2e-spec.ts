import { Body, Controller, Inject, Injectable, Module, Post, Req } from '@nestjs/common';
import type { Request } from 'express';
import {
  BATCH_OPTIONS,
  BatchExecutor,
  BatchLimitExceededException,
  BatchModule,
  InvalidBatchException,
  type BatchModuleOptions,
  type BatchOperation,
  type ResolvedBatchOptions,
} from 'nestjs-batch';
import { Test } from '@nestjs/testing';
import { lastValueFrom, toArray } from 'rxjs';
import { postBatch, withTestApp } from './utils/test-app.js';
import { forEachPlatform } from './utils/platforms.js';

forEachPlatform(() => {
  const CONFIG = 'CONFIG';

  @Module({ providers: [{ provide: CONFIG, useValue: { batchLimit: 2 } }], exports: [CONFIG] })
  class ConfigModule {}

  @Injectable()
  class BatchConfig {
    createBatchOptions(): BatchModuleOptions {
      return { limit: 3 };
    }
  }

  describe('the NestJS under test', () => {
    it('is the major this run is for (NEST_MAJOR; 12 unless the Nest 11 run sets it)', async () => {
      const core = (await import('@nestjs/core/package.json', { with: { type: 'json' } })) as {
        default: { version: string };
      };
      expect(core.default.version.split('.')[0]).toBe(process.env.NEST_MAJOR ?? '12');
    });
  });

  describe('forRoot', () => {
    it('works without options: every option has a default', async () => {
      await withTestApp({ module: BatchModule.forRoot() }, async (t) => {
        const response = await postBatch(t, [{ method: 'GET', url: '/echo' }]).expect(200);
        expect((response.body as { data: { code: number }[] }).data[0]?.code).toBe(200);
      });
    });
  });

  describe('forRootAsync', () => {
    it('takes options from a factory with injected dependencies', async () => {
      await withTestApp(
        {
          module: BatchModule.forRootAsync({
            imports: [ConfigModule],
            inject: [CONFIG],
            useFactory: (config: { batchLimit: number }) => ({ limit: config.batchLimit }),
            path: 'from-factory',
          }),
        },
        async (t) => {
          const op = { method: 'GET', url: '/echo' };
          await t.http
            .post('/from-factory')
            .send({ data: [op, op] })
            .expect(200);
          const refused = await t.http
            .post('/from-factory')
            .send({ data: [op, op, op] })
            .expect(413);
          expect((refused.body as { message: string }).message).toMatch(/at most 2 operations/);
        },
      );
    });

    it('takes options from a class', async () => {
      await withTestApp(
        {
          module: BatchModule.forRootAsync({ useClass: BatchConfig }),
        },
        async (t) => {
          const op = { method: 'GET', url: '/echo' };
          await postBatch(t, [op, op, op]).expect(200);
          await postBatch(t, [op, op, op, op]).expect(413);
        },
      );
    });
  });

  /** A user's own controller running batches through the injected executor. */
  @Controller('mine')
  class MyController {
    constructor(private readonly batches: BatchExecutor) {}

    @Post('promise')
    async promise(@Body() operations: BatchOperation[], @Req() request: Request): Promise<unknown> {
      return { entries: await this.batches.execute(operations, { request }) };
    }

    @Post('stream')
    async stream(@Body() operations: BatchOperation[]): Promise<unknown> {
      return { outcomes: await lastValueFrom(this.batches.run(operations).pipe(toArray())) };
    }
  }

  /** A feature module: BatchExecutor comes from the global BatchModule imported at the root. */
  @Module({ controllers: [MyController] })
  class MyModule {}

  describe('BATCH_OPTIONS, injected into user code', () => {
    @Injectable()
    class ReadsOptions {
      constructor(@Inject(BATCH_OPTIONS) readonly options: ResolvedBatchOptions) {}
    }

    it('gives the options the module runs with, defaults filled in', async () => {
      const moduleRef = await Test.createTestingModule({
        imports: [BatchModule.forRoot({ limit: 7 })],
        providers: [ReadsOptions],
      }).compile();
      try {
        const { options } = moduleRef.get(ReadsOptions);
        expect(options).toMatchObject({ limit: 7, concurrency: 10 });
      } finally {
        await moduleRef.close();
      }
    });
  });

  describe('BatchExecutor, injected into user code', () => {
    it('runs operations and resolves entries in order, inheriting the request', async () => {
      await withTestApp({ imports: [MyModule], batch: { isGlobal: true } }, async (t) => {
        const response = await t.http
          .post('/mine/promise')
          .set('authorization', 'Bearer good')
          .send([
            { method: 'POST', url: '/items', name: 'c', body: { name: 'x' } },
            { method: 'GET', url: '/secret', dependsOn: ['c'] },
          ])
          .expect(201);
        const result = response.body as { entries: { code: number }[] };
        expect(result.entries.map((entry) => entry.code)).toEqual([201, 200]);
      });
    });

    it('streams outcomes as they complete, and plans before running', async () => {
      await withTestApp({ imports: [MyModule], batch: { isGlobal: true } }, async (t) => {
        const response = await t.http
          .post('/mine/stream')
          .send([
            { method: 'GET', url: '/slow/60?tag=late' },
            { method: 'GET', url: '/slow/1?tag=early' },
          ])
          .expect(201);
        const { outcomes } = response.body as {
          outcomes: { index: number; result: { body: { tag: string } } }[];
        };
        expect(outcomes.map((outcome) => [outcome.index, outcome.result.body.tag])).toEqual([
          [1, 'early'],
          [0, 'late'],
        ]);
        const executor = t.app.get(BatchExecutor);
        await expect(
          executor.execute([{ method: 'GET', url: '/echo', dependsOn: ['nobody'] }]),
        ).rejects.toBeInstanceOf(InvalidBatchException);
        expect(t.recorder.count('echo')).toBe(0);
      });
    });

    it("enforces the endpoint's rules on operations straight from @Body(), in run and execute", async () => {
      await withTestApp(
        {
          imports: [MyModule],
          batch: {
            isGlobal: true,
            exclude: ['/secret', { path: '/items/:id', method: 'DELETE' }],
          },
        },
        async (t) => {
          for (const route of ['/mine/promise', '/mine/stream']) {
            for (const [operation, problem] of [
              [{ method: 'GET', url: 'http://evil.example/secret' }, /0\.url must be a path/],
              [
                { method: 'GET', url: '/echo', headers: { 'content-length': '5' } },
                /header "content-length" is set by the batch endpoint/,
              ],
              [
                { method: 'GET', url: '/echo', headers: { 'x-forwarded-for': '10.6.6.6' } },
                /header "x-forwarded-for" is a forwarding header/,
              ],
              [{ method: 'FETCH', url: '/echo' }, /0\.method must be one of/],
            ] as const) {
              const response = await t.http
                .post(route)
                .set('authorization', 'Bearer good')
                .send([operation]);
              expect([route, response.status]).toEqual([route, 400]);
              expect([route, (response.body as { message: string[] }).message.join('\n')]).toEqual([
                route,
                expect.stringMatching(problem),
              ]);
            }
          }
          // Not a list at all: a 400 too, not a TypeError (a 500).
          const notAList = await t.http.post('/mine/promise').send({ method: 'GET', url: '/echo' });
          expect(notAList.status).toBe(400);
          expect(notAList.body).toMatchObject({
            message: ['operations must be an array of operations'],
          });
          expect(t.recorder.count('secret')).toBe(0);
          expect(t.recorder.count('echo')).toBe(0);

          // A lower-case method is upper-cased, as by the endpoint, so the exclusion applies to it.
          const response = await t.http
            .post('/mine/promise')
            .send([{ method: 'delete', url: '/items/1' }])
            .expect(201);
          const [entry] = (response.body as { entries: { method: string; code: number }[] })
            .entries;
          expect(entry).toMatchObject({ method: 'DELETE', code: 403 });
          expect(t.recorder.count('items.remove')).toBe(0);

          const executor = t.app.get(BatchExecutor);
          await expect(
            executor.execute([{ method: 'GET', url: 'http://evil.example/secret' }]),
          ).rejects.toBeInstanceOf(InvalidBatchException);
          const tooMany = Array.from(
            { length: 51 },
            () => ({ method: 'GET', url: '/echo' }) as const,
          );
          await expect(executor.execute(tooMany)).rejects.toBeInstanceOf(
            BatchLimitExceededException,
          );
          expect(t.recorder.count('secret')).toBe(0);
          expect(t.recorder.count('echo')).toBe(0);
        },
      );
    });
  });
});
