// The app every benchmark measures: GET /item, a small JSON object, behind a global guard and
// interceptor like a real app. Plain JavaScript so it runs without a build step of its own;
// decorators applied as functions.
import 'reflect-metadata';
import { Controller, Get, Injectable, Module, Query } from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR, NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { BatchModule } from 'nestjs-batch';
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
    controllers: [ItemController],
    providers: [
      { provide: APP_GUARD, useClass: ApiKeyGuard },
      { provide: APP_INTERCEPTOR, useClass: ServedByInterceptor },
    ],
  })(BenchModule);
  return BenchModule;
}

/** A fresh adapter: `express`, or Fastify for anything else. */
const adapterFor = (platform) =>
  platform === 'express' ? new ExpressAdapter() : new FastifyAdapter();

/** The bench app with BatchModule, initialised and ready for in-process dispatch. */
export async function createBatchBenchApp(platform, options = { limit: 50 }) {
  const app = await NestFactory.create(
    benchModule([BatchModule.forRoot(options)]),
    adapterFor(platform),
    { logger: false },
  );
  await app.init();
  if (platform !== 'express') await app.getHttpAdapter().getInstance().ready();
  return app;
}
