// npm run bench:tracing [-- --seconds 3 --rounds 3]
//
// What tracing costs a batched operation, as CPU microseconds per operation (user + system, GC
// threads included) of BatchExecutor.execute with 50 GETs through the bench app, in-process:
//   absent  the app has no @opentelemetry/api (its resolution fails: without-otel-api.mjs)
//   api     @opentelemetry/api installed, no SDK registered: the case that must cost nothing
//   sdk     an SDK registered (NodeTracerProvider, spans to a no-op exporter), the batch run
//           inside a span: each operation is then a span, and this is what that costs
// Each (variant, platform, round) is a process of its own (a registered SDK is global), the
// variants alternating round by round; medians are printed. Not a test: run it under
// `flock /tmp/bench.lock` on a shared machine.
import { spawnSync } from 'node:child_process';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const option = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : fallback;
};
const SECONDS = Number(option('seconds', 3));
const ROUNDS = Number(option('rounds', 3));
const OPS = 50;
const child = option('child');

if (child) {
  const [variant, platform] = child.split(':');
  let tracer;
  if (variant === 'sdk') {
    const { NodeTracerProvider, SimpleSpanProcessor } =
      await import('@opentelemetry/sdk-trace-node');
    const exporter = { export: (_spans, done) => done({ code: 0 }), shutdown: async () => {} };
    new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).register();
    tracer = (await import('@opentelemetry/api')).trace.getTracer('bench');
  }
  const { BatchExecutor } = await import('nestjs-batch');
  const { OperationTracer } = await import('../dist/dispatch/operation.tracer.js');
  const { createBatchBenchApp } = await import('./app.mjs');
  const { runFor } = await import('./in-process.mjs');
  const app = await createBatchBenchApp(platform);
  // The variant is what it says: the library found the API, or did not.
  const loaded = app.get(OperationTracer).api !== undefined;
  if (loaded !== (variant !== 'absent')) throw new Error(`${variant}: API loaded is ${loaded}`);
  const executor = app.get(BatchExecutor);
  const operations = Array.from({ length: OPS }, () => ({ method: 'GET', url: '/item' }));
  const batchRequest = { headers: { host: 'localhost' }, socket: { remoteAddress: '127.0.0.1' } };
  const execute = () => executor.execute(operations, { request: batchRequest });
  const once = tracer
    ? (done) =>
        tracer.startActiveSpan('POST /batch', (span) => execute().then(() => (span.end(), done())))
    : (done) => void execute().then(() => done());
  await runFor(1, once, 1); // warm-up
  const { calls, cpuMicros } = await runFor(SECONDS, once, 1);
  process.stdout.write(`${JSON.stringify({ perOperation: cpuMicros / (calls * OPS) })}\n`);
  await app.close();
  process.exit(0);
}

const script = fileURLToPath(import.meta.url);
const hide = fileURLToPath(new URL('./without-otel-api.mjs', import.meta.url));
const variants = ['absent', 'api', 'sdk'];
const figures = {};
for (const platform of ['express', 'fastify']) {
  for (const variant of variants) figures[`${variant}:${platform}`] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const variant of variants) {
      const args = ['--min-semi-space-size=16'];
      if (variant === 'absent') args.push('--import', hide);
      args.push(script, '--child', `${variant}:${platform}`, '--seconds', String(SECONDS));
      const run = spawnSync(process.execPath, args, { encoding: 'utf8' });
      if (run.status !== 0) throw new Error(`${variant}:${platform} failed\n${run.stderr}`);
      figures[`${variant}:${platform}`].push(JSON.parse(run.stdout.trim()).perOperation);
    }
  }
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
console.log(`CPU µs per batched operation, median of ${ROUNDS} rounds of ${SECONDS} s`);
for (const platform of ['express', 'fastify']) {
  const absent = median(figures[`absent:${platform}`]);
  for (const variant of variants) {
    const values = figures[`${variant}:${platform}`];
    const cost = median(values);
    const range = values.map((v) => v.toFixed(1)).join(', ');
    console.log(
      `  ${platform.padEnd(8)} ${variant.padEnd(7)} ${cost.toFixed(1).padStart(6)}  x${(cost / absent).toFixed(3)} of absent  rounds ${range}`,
    );
  }
}
