// The app every benchmark measures: GET /item, a small JSON object, behind a global guard and
// interceptor like a real app. Plain JavaScript so it runs without a build step of its own;
// decorators applied as functions.
import 'reflect-metadata';
import {
  Body,
  Controller,
  Get,
  Injectable,
  Module,
  Param,
  Patch,
  Post,
  Query,
} from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR, NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { BatchModule } from 'nestjs-batch';
import process from 'node:process';
import { map } from 'rxjs';

class ItemController {
  item(after) {
    return { id: 42, name: 'widget', price: 9.99, after: after ?? null };
  }
}
Get('item')(
  ItemController.prototype,
  'item',
  Object.getOwnPropertyDescriptor(ItemController.prototype, 'item'),
);
Query('after')(ItemController.prototype, 'item', 0);
Controller()(ItemController);

/** 10 KiB of JSON (69 catalogue rows, 10242 bytes written), built afresh at each call. */
export const largeBody = () => ({
  items: Array.from({ length: 69 }, (_, i) => ({
    id: 1000 + i,
    sku: `SKU-${String(1000 + i).padStart(6, '0')}`,
    name: `Catalogue item ${i}`,
    price: 9.99 + i,
    stock: (i * 37) % 101,
    tags: ['bench', i % 2 ? 'odd' : 'even'],
    updatedAt: '2026-01-01T00:00:00.000Z',
  })),
});

// GET /large, for the larger-bodies scenario: built per request, as an app reading rows would,
// so the serializer cannot reuse a cached string.
class LargeController {
  large() {
    return largeBody();
  }
}
Get('large')(
  LargeController.prototype,
  'large',
  Object.getOwnPropertyDescriptor(LargeController.prototype, 'large'),
);
Controller()(LargeController);

// A small store for the create-read-update-list scenario of the HTTP/2 comparison.
class ItemsController {
  constructor() {
    this.items = new Map();
    this.next = 1;
  }
  create(body) {
    const item = { id: this.next++, name: body?.name ?? 'item', qty: body?.qty ?? 0 };
    this.items.set(item.id, item);
    return item;
  }
  read(id) {
    return this.items.get(Number(id)) ?? null;
  }
  update(id, body) {
    const item = this.items.get(Number(id));
    if (item) Object.assign(item, body);
    return item ?? null;
  }
  list() {
    // The last ten, as a list page would show.
    return [...this.items.values()].slice(-10);
  }
}
const decorate = (decorators, name) =>
  decorators.forEach((decorator) =>
    decorator(
      ItemsController.prototype,
      name,
      Object.getOwnPropertyDescriptor(ItemsController.prototype, name),
    ),
  );
decorate([Post()], 'create');
Body()(ItemsController.prototype, 'create', 0);
decorate([Get(':id')], 'read');
Param('id')(ItemsController.prototype, 'read', 0);
decorate([Patch(':id')], 'update');
Param('id')(ItemsController.prototype, 'update', 0);
Body()(ItemsController.prototype, 'update', 1);
decorate([Get()], 'list');
Controller('items')(ItemsController);

class ApiKeyGuard {
  canActivate(context) {
    return context.switchToHttp().getRequest().headers['x-api-key'] !== 'blocked';
  }
}
Injectable()(ApiKeyGuard);

class ServedByInterceptor {
  intercept(context, next) {
    const response = context.switchToHttp().getResponse();
    (response.raw ?? response).setHeader('x-served-by', 'bench');
    return next.handle().pipe(map((body) => body));
  }
}
Injectable()(ServedByInterceptor);

/** The bench module, importing `imports` (BatchModule or nothing). */
export function benchModule(imports) {
  class BenchModule {}
  Module({
    imports,
    controllers: [ItemController, LargeController, ItemsController],
    providers: [
      { provide: APP_GUARD, useClass: ApiKeyGuard },
      { provide: APP_INTERCEPTOR, useClass: ServedByInterceptor },
    ],
  })(BenchModule);
  return BenchModule;
}

/** A fresh adapter: `express`, or Fastify for anything else. */
const adapterFor = (platform) =>
  platform === 'express'
    ? new ExpressAdapter()
    : // `fastify-h2`: Fastify on HTTP/2 cleartext (h2c), as a modern client would reach it.
      new FastifyAdapter(platform === 'fastify-h2' ? { http2: true } : {});

/** The bench app with BatchModule, initialised and ready for in-process dispatch. */
export async function createBatchBenchApp(platform, options = benchOptions()) {
  const app = await NestFactory.create(
    benchModule([BatchModule.forRoot(options)]),
    adapterFor(platform),
    { logger: false, abortOnError: false },
  );
  // `BENCH_COMPRESS=1`: responses over 1 KiB compressed (@fastify/compress), as most deployed
  // APIs do; the HTTP/2 comparison runs so, since an uncompressed batch reply is compared with
  // HPACK-compressed headers.
  if (platform !== 'express' && process.env.BENCH_COMPRESS === '1') {
    const { default: compress } = await import('@fastify/compress');
    await app.register(compress, { encodings: ['br', 'gzip'] });
  }
  await app.init();
  if (platform !== 'express') await app.getHttpAdapter().getInstance().ready();
  return app;
}

/**
 * BatchModule's options for the bench: `BENCH_CONCURRENCY` tries another `concurrency`,
 * `BENCH_GLOBAL` a `globalConcurrency`.
 */
function benchOptions() {
  const concurrency = Number(process.env.BENCH_CONCURRENCY);
  const globalConcurrency = Number(process.env.BENCH_GLOBAL);
  return {
    limit: 50,
    ...(concurrency > 0 ? { concurrency } : {}),
    ...(globalConcurrency > 0 ? { globalConcurrency } : {}),
  };
}
