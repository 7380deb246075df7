// The apps the benchmark measures, one per process so each has its own RSS and core:
//   node bench/server.mjs nest <port> [express|fastify]  Nest 12 + BatchModule, GET /item
//   node bench/server.mjs batch-request <port>  plain Express + batch-request (HTTP loopback)
//   node bench/server.mjs express-batch <port>  Nest 12 + express-batch mounted on its Express app
//   node bench/server.mjs floor <seconds> [express|fastify|inject] [path]
//     the library's dispatcher alone, in-process (prints ops/s), GETs of `path` (/item by default);
//     `inject` is the same loop through fastify.inject(), the supported way into a Fastify app,
//     for comparison
//   node bench/server.mjs floor-series <windows> [express|fastify] [seconds]
//     the floor's ops/s per window of `seconds` (2 by default) from a fresh process, no warm-up
import { NestFactory } from '@nestjs/core';
import { createRequire } from 'node:module';
import process from 'node:process';
import { DispatcherHost } from '../dist/dispatch/dispatcher.host.js';
import { createParentContext } from '../dist/dispatch/parent.context.js';
import { benchModule, createBatchBenchApp } from './app.mjs';
import { dispatchTo, runFor } from './in-process.mjs';

const require = createRequire(import.meta.url);
const [mode, arg, platform = 'express', path = '/item'] = process.argv.slice(2);

// Exits (rather than dies) on a signal, so `node --cpu-prof bench/server.mjs ...` writes its profile.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));

async function listen(app, port) {
  await app.listen(port, '127.0.0.1');
  process.stdout.write(`listening ${port}\n`);
}

if (mode === 'nest') {
  await listen(await createBatchBenchApp(platform), Number(arg));
} else if (mode === 'express-batch') {
  const app = await NestFactory.create(benchModule([]), { logger: false });
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
  const app = await createBatchBenchApp(platform);
  const dispatcher = app.get(DispatcherHost).get();
  const parent = createParentContext(undefined, []);
  const request = {
    method: 'GET',
    url: path,
    headers: { host: 'localhost' },
    info: { index: 0 },
  };
  const fastify = platform === 'inject' ? app.getHttpAdapter().getInstance() : undefined;
  // One operation, calling `done` when its response is complete.
  const dispatchOnce = fastify
    ? (done) =>
        fastify
          .inject({ method: 'GET', url: path, headers: { host: 'localhost' } })
          .then((response) => (response.rawPayload, done()))
    : dispatchTo(dispatcher, request, parent);
  // As many in flight as the batch executor's default concurrency.
  // Warm-up, as long as the HTTP variants get (BENCH_WARMUP_SECONDS, set by bench/run.mjs).
  await runFor(Number(process.env.BENCH_WARMUP_SECONDS ?? 1), dispatchOnce, 10);
  const { calls, wallMs } = await runFor(Number(arg), dispatchOnce, 10);
  process.stdout.write(`${JSON.stringify({ opsPerSecond: (calls * 1000) / wallMs })}\n`);
  await app.close();
} else if (mode === 'floor-series') {
  // The floor's ops/s window by window from a fresh process, no warm-up (bench/warmup.mjs).
  const [windows, seconds] = [Number(arg), Number(process.argv[5] ?? 2)];
  const app = await createBatchBenchApp(platform);
  const dispatchOnce = dispatchTo(
    app.get(DispatcherHost).get(),
    { method: 'GET', url: '/item', headers: { host: 'localhost' }, info: { index: 0 } },
    createParentContext(undefined, []),
  );
  for (let window = 0; window < windows; window++) {
    const { calls, wallMs } = await runFor(seconds, dispatchOnce, 10);
    process.stdout.write(`${JSON.stringify({ opsPerSecond: (calls * 1000) / wallMs })}\n`);
  }
  await app.close();
} else {
  console.error(`unknown mode ${mode}`);
  process.exit(2);
}
