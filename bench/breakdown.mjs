// npm run bench:breakdown [-- express|fastify --seconds 2 --rounds 4 --only <variant> --dtos <n>]
//
// Where a batched operation's CPU goes, in one process and without the network, so the stages
// can be told apart on a noisy machine: each variant adds one stage to the one before, the
// variants alternate round by round, and the medians are printed as CPU microseconds per
// operation (user + system, GC threads included).
//   floor    the dispatcher alone: one operation through the app, 10 in flight
//   execute  + planning and the RxJS executor (BatchExecutor.execute, 50 operations)
//   codec    + decoding and validating the batch, encoding the reply
//   request  + the batch request itself, through the app (hooks, guard, controller, body reader)
// Not a test, and not the benchmark's targets (npm run bench): a profiling aid. With --only, runs
// that variant alone, e.g. under `node --cpu-prof bench/breakdown.mjs fastify --only request`.
// With --dtos n, n more classes with class-validator rules are loaded first, as in a large app:
// class-validator looks through every decorated class each time it validates an object.
import { IsInt, IsString } from 'class-validator';
import { BatchExecutor } from 'nestjs-batch';
import { Buffer } from 'node:buffer';
import process from 'node:process';
import { DispatcherHost } from '../dist/dispatch/dispatcher.host.js';
import { createParentContext } from '../dist/dispatch/parent.context.js';
import { decodeNativeBatch } from '../dist/formats/native.format.js';
import { httpPlatformOf } from '../dist/platform/platform.factory.js';
import { HttpAdapterHost } from '@nestjs/core';
import { createBatchBenchApp } from './app.mjs';
import { dispatchTo, postBatchTo, runFor } from './in-process.mjs';

const option = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : fallback;
};
const platform = process.argv[2]?.startsWith('--') === false ? process.argv[2] : 'express';
const SECONDS = Number(option('seconds', 2));
const ROUNDS = Number(option('rounds', 4));
const ONLY = option('only');
const DTOS = Number(option('dtos', 0));
for (let i = 0; i < DTOS; i++) {
  class AppDto {}
  IsString()(AppDto.prototype, 'name');
  IsInt()(AppDto.prototype, 'count');
}
const OPS = 50;

const app = await createBatchBenchApp(platform);
const dispatcher = app.get(DispatcherHost).get();
const executor = app.get(BatchExecutor);
const listener = httpPlatformOf(app.get(HttpAdapterHost)).listener;

const wire = Buffer.from(
  JSON.stringify({ data: Array.from({ length: OPS }, () => ({ method: 'GET', url: '/item' })) }),
);
const headers = { host: 'localhost', 'content-type': 'application/json' };
const operations = decodeNativeBatch(JSON.parse(String(wire)), OPS);
// What the executor takes from a batch request: its headers and its client's address.
const batchRequest = { headers, socket: { remoteAddress: '127.0.0.1' } };
const parent = createParentContext(batchRequest, []);
// The request an operation of that batch becomes.
const floorRequest = { method: 'GET', url: '/item', headers: parent.headers, info: { index: 0 } };

const postBatch = postBatchTo(listener, wire, headers);

// [call, calls in flight, operations per call]
const allVariants = {
  floor: [dispatchTo(dispatcher, floorRequest, parent), 10, 1],
  execute: [
    (done) => void executor.execute(operations, { request: batchRequest }).then(done),
    1,
    OPS,
  ],
  codec: [
    (done) =>
      void executor
        .execute(decodeNativeBatch(JSON.parse(String(wire)), OPS), { request: batchRequest })
        .then((entries) => done(JSON.stringify({ data: entries }))),
    1,
    OPS,
  ],
  request: [postBatch, 1, OPS],
};

const variants = Object.fromEntries(
  Object.entries(allVariants).filter(([name]) => !ONLY || name === ONLY),
);
if (Object.keys(variants).length === 0) throw new Error(`--only: no variant named ${ONLY}`);
for (const [once, inFlight] of Object.values(variants)) await runFor(1, once, inFlight); // warm-up
const perOperation = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, [once, inFlight, ops]] of Object.entries(variants)) {
    const { calls, cpuMicros } = await runFor(SECONDS, once, inFlight);
    perOperation[name].push(cpuMicros / (calls * ops));
  }
}
await app.close();

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
let before = 0;
console.log(
  `${platform}, ${DTOS} extra DTO classes: CPU µs per operation, median of ${ROUNDS} rounds of ${SECONDS} s`,
);
for (const [name, values] of Object.entries(perOperation)) {
  const cost = median(values);
  const range = `${Math.min(...values).toFixed(1)}-${Math.max(...values).toFixed(1)}`;
  const added = before ? ` (${cost - before >= 0 ? '+' : ''}${(cost - before).toFixed(1)})` : '';
  console.log(
    `  ${name.padEnd(8)} ${cost.toFixed(1).padStart(6)}${added.padEnd(9)} rounds ${range}`,
  );
  before = cost;
}
