// npm run bench:tracing [-- express|fastify --seconds 1 --rounds 10]
//
// What tracing costs a batched operation: CPU microseconds per operation (user + system, GC
// threads included) of BatchExecutor.execute with 50 GETs through the bench app, in-process.
//   absent  the library as it runs when the app has no @opentelemetry/api: the tracer never
//           loaded it (the same class, its bootstrap import skipped), so no Fastify route hook
//   api     @opentelemetry/api loaded, no SDK registered: the case that must cost nothing
//   sdk     then an SDK registered (NodeTracerProvider, spans to a no-op exporter), the batch
//           run inside a span: each operation a span; what tracing costs when it is on
// The apps live in one process and the variants alternate in short slices, so the load other
// processes put on a shared machine falls on each alike (separate processes disagreed by 2x from
// one to the next here). `sdk` runs last: a registered SDK is global. Each round gives a ratio to
// `absent` of the same round; the medians are printed. Not a test: run it under
// `flock /tmp/bench.lock` on a shared machine. (test/tracing.e2e-spec.ts checks that an app
// whose resolution of the package fails, with without-otel-api.mjs, serves batches.)
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { trace } from '@opentelemetry/api';
import { NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { BatchExecutor, BatchModule } from 'nestjs-batch';
import process from 'node:process';
import { OperationTracer } from '../dist/dispatch/operation.tracer.js';
import { HttpPlatformHost } from '../dist/platform/http-platform.host.js';
import { benchModule, createBatchBenchApp } from './app.mjs';
import { runFor } from './in-process.mjs';

const option = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : fallback;
};
const platform = process.argv[2]?.startsWith('--') === false ? process.argv[2] : 'express';
const SECONDS = Number(option('seconds', 1));
const ROUNDS = Number(option('rounds', 10));
const OPS = 50;

/** The bench app whose tracer never imports the API, as where the package is not installed. */
async function appWithoutApi() {
  const moduleRef = await Test.createTestingModule({
    imports: [benchModule([BatchModule.forRoot({ limit: 50 })])],
  })
    .overrideProvider(OperationTracer)
    .useFactory({
      factory: (host) => {
        const tracer = new OperationTracer(host);
        tracer.onModuleInit = async () => undefined;
        return tracer;
      },
      inject: [HttpPlatformHost],
    })
    .compile();
  const app = moduleRef.createNestApplication(
    platform === 'express' ? new ExpressAdapter() : new FastifyAdapter(),
    { logger: false },
  );
  await app.init();
  if (platform !== 'express') await app.getHttpAdapter().getInstance().ready();
  return app;
}

const apps = { absent: await appWithoutApi(), api: await createBatchBenchApp(platform) };
for (const [name, app] of Object.entries(apps)) {
  const loaded = app.get(OperationTracer).api !== undefined;
  if (loaded !== (name === 'api')) throw new Error(`${name}: the API loaded is ${loaded}`);
}
const operations = Array.from({ length: OPS }, () => ({ method: 'GET', url: '/item' }));
const batchRequest = { headers: { host: 'localhost' }, socket: { remoteAddress: '127.0.0.1' } };
const batchOf = (app) => {
  const executor = app.get(BatchExecutor);
  return (done) => void executor.execute(operations, { request: batchRequest }).then(() => done());
};
const variants = { absent: batchOf(apps.absent), api: batchOf(apps.api) };

async function measure(names, rounds) {
  const perOperation = Object.fromEntries(names.map((name) => [name, []]));
  for (const name of names) await runFor(1, variants[name], 1); // warm-up
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? names : [...names].reverse();
    for (const name of order) {
      const { calls, cpuMicros } = await runFor(SECONDS, variants[name], 1);
      perOperation[name][round] = cpuMicros / (calls * OPS);
    }
  }
  return perOperation;
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
function report(perOperation) {
  for (const [name, values] of Object.entries(perOperation)) {
    const ratios = values.map((value, round) => value / perOperation.absent[round]);
    console.log(
      `  ${name.padEnd(7)} ${median(values).toFixed(1).padStart(7)} µs/op  ratio ${median(ratios).toFixed(3)}` +
        `  rounds ${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}`,
    );
  }
}

console.log(`${platform}: CPU per batched operation, medians of ${ROUNDS} rounds of ${SECONDS} s`);
report(await measure(['absent', 'api'], ROUNDS));

new NodeTracerProvider({
  spanProcessors: [
    new SimpleSpanProcessor({
      export: (_spans, done) => done({ code: 0 }),
      shutdown: async () => {},
    }),
  ],
}).register();
const tracer = trace.getTracer('bench');
const traced = batchOf(apps.api);
variants.sdk = (done) =>
  tracer.startActiveSpan('POST /batch', (span) => traced(() => (span.end(), done())));
console.log('after registering an SDK, the batch inside a span:');
report(await measure(['absent', 'sdk'], Math.ceil(ROUNDS / 2)));
await Promise.all(Object.values(apps).map((app) => app.close()));
