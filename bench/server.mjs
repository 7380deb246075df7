// The apps the benchmark measures, one per process so each has its own RSS and core:
//   node bench/server.mjs nest <port>        Nest 12 + Express + BatchModule, GET /item
//   node bench/server.mjs batch-request <port>  plain Express + batch-request (HTTP loopback)
//   node bench/server.mjs express-batch <port>  Nest 12 + express-batch mounted on its Express app
//   node bench/server.mjs floor <seconds>    the library's dispatcher alone, in-process (prints ops/s)
// Plain JavaScript so it runs without a build step of its own; decorators applied as functions.
import 'reflect-metadata';
import { Controller, Get, Injectable, Module, Query } from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR, NestFactory } from '@nestjs/core';
import { BatchModule } from 'nestjs-batch';
import { createRequire } from 'node:module';
import process from 'node:process';
import { map } from 'rxjs';
import { DispatcherHost } from '../dist/dispatch/dispatcher.host.js';
import { createParentContext } from '../dist/dispatch/parent.context.js';

const require = createRequire(import.meta.url);
const [mode, arg] = process.argv.slice(2);

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
    context.switchToHttp().getResponse().setHeader('x-served-by', 'bench');
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
  const app = await NestFactory.create(appModule([BatchModule.forRoot({ limit: 50 })]), {
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
  const app = await NestFactory.create(appModule([BatchModule.forRoot({ limit: 50 })]), {
    logger: false,
  });
  await app.init();
  const dispatcher = app.get(DispatcherHost).get();
  const parent = createParentContext(undefined, []);
  const request = {
    method: 'GET',
    url: '/item',
    headers: { host: 'localhost' },
    info: { index: 0 },
  };
  // As many in flight as the batch executor's default concurrency, for `seconds`.
  const runFor = async (seconds) => {
    const deadline = Date.now() + seconds * 1000;
    let done = 0;
    const worker = () =>
      new Promise((resolve) => {
        const next = () => {
          if (Date.now() >= deadline) return resolve();
          dispatcher.dispatch(request, parent).subscribe({
            complete: () => {
              done++;
              setImmediate(next);
            },
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
