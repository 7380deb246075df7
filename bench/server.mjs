// The apps the benchmark measures, one per process so each has its own RSS and core:
//   node bench/server.mjs nest <port> [express|fastify]  Nest 12 + BatchModule, GET /item
//   node bench/server.mjs batch-request <port>  plain Express + batch-request (HTTP loopback)
//   node bench/server.mjs express-batch <port>  Nest 12 + express-batch mounted on its Express app
//   node bench/server.mjs floor <seconds> [express|fastify|inject]
//     the library's dispatcher alone, in-process (prints ops/s); `inject` is the same loop through
//     fastify.inject(), the supported way into a Fastify app, for comparison
// Plain JavaScript so it runs without a build step of its own; decorators applied as functions.
import 'reflect-metadata';
import { Controller, Get, Injectable, Module, Query } from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR, NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { BatchModule } from 'nestjs-batch';
import { createRequire } from 'node:module';
import process from 'node:process';
import { map } from 'rxjs';
import { DispatcherHost } from '../dist/dispatch/dispatcher.host.js';
import { createParentContext } from '../dist/dispatch/parent.context.js';

const require = createRequire(import.meta.url);
const [mode, arg, platform = 'express'] = process.argv.slice(2);

/** A fresh adapter of the platform asked for (`inject` dispatches into Fastify). */
const adapter = () => (platform === 'express' ? new ExpressAdapter() : new FastifyAdapter());

/** The route: a small JSON object, behind a global guard and interceptor like a real app. */
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

function appModule(imports) {
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

// Exits (rather than dies) on a signal, so `node --cpu-prof bench/server.mjs ...` writes its profile.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));

async function listen(app, port) {
  await app.listen(port, '127.0.0.1');
  process.stdout.write(`listening ${port}\n`);
}

if (mode === 'nest') {
  const app = await NestFactory.create(appModule([BatchModule.forRoot({ limit: 50 })]), adapter(), {
    logger: false,
  });
  await listen(app, Number(arg));
} else if (mode === 'express-batch') {
  const app = await NestFactory.create(appModule([]), { logger: false });
  const expressBatch = require('express-batch');
  const instance = app.getHttpAdapter().getInstance();
  instance.get('/api/batch', expressBatch(instance));
  await listen(app, Number(arg));
} else if (mode === 'batch-request') {
  const express = require('express');
  const batch = require('batch-request')({ max: 50 });
  const app = express();
  app.use(express.json({ limit: '1mb' }));
  app.get('/item', (req, res) => {
    res.setHeader('x-served-by', 'bench');
    res.json({ id: 42, name: 'widget', price: 9.99, after: req.query.after ?? null });
  });
  app.post('/batch', batch.validate, batch);
  app.listen(Number(arg), '127.0.0.1', () => process.stdout.write(`listening ${arg}\n`));
} else if (mode === 'floor') {
  const app = await NestFactory.create(appModule([BatchModule.forRoot({ limit: 50 })]), adapter(), {
    logger: false,
  });
  await app.init();
  if (platform !== 'express') await app.getHttpAdapter().getInstance().ready();
  const dispatcher = app.get(DispatcherHost).get();
  const parent = createParentContext(undefined, []);
  const request = {
    method: 'GET',
    url: '/item',
    headers: { host: 'localhost' },
    info: { index: 0 },
  };
  const fastify = platform === 'inject' ? app.getHttpAdapter().getInstance() : undefined;
  // One operation, calling `done` when its response is complete.
  const dispatchOnce = fastify
    ? (done) =>
        fastify
          .inject({ method: 'GET', url: '/item', headers: { host: 'localhost' } })
          .then((response) => (response.rawPayload, done()))
    : (done) => dispatcher.dispatch(request, parent).subscribe({ complete: done });
  // As many in flight as the batch executor's default concurrency, for `seconds`.
  const runFor = async (seconds) => {
    const deadline = Date.now() + seconds * 1000;
    let done = 0;
    const worker = () =>
      new Promise((resolve) => {
        const next = () => {
          if (Date.now() >= deadline) return resolve();
          dispatchOnce(() => {
            done++;
            setImmediate(next);
          });
        };
        next();
      });
    const started = Date.now();
    await Promise.all(Array.from({ length: 10 }, worker));
    return (done * 1000) / (Date.now() - started);
  };
  await runFor(1); // warm-up, as the HTTP variants get
  const opsPerSecond = await runFor(Number(arg));
  process.stdout.write(`${JSON.stringify({ opsPerSecond })}\n`);
  await app.close();
} else {
  console.error(`unknown mode ${mode}`);
  process.exit(2);
}
