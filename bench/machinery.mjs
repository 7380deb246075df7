// node --min-semi-space-size=16 bench/machinery.mjs [express|fastify] [request|decode|execute|encode] [--dtos n]
//
// The library's own CPU per batched operation, with nothing of the app in it: the dispatcher is
// replaced by one that answers every operation at once (on the next tick) with a small JSON
// body, so what is left is the machinery alone, stage by stage, in one process:
//   decode   parsing and validating the operations (decodeNativeBatch)
//   execute  planning, scheduling and reading the answers (BatchExecutor.execute, 50 operations)
//   encode   execute, then the reply encoded (JSON.stringify)
//   request  the whole POST /batch through the app's hooks, guard, controller and reply writer
// Medians of 5 rounds of 2 s, CPU microseconds per operation. A profiling aid, not a target: the
// targets are `npm run bench`'s. Where a stage's own cost shows in `bench:breakdown` only as
// noise on the app's, this tells it apart.
import { IsInt, IsString } from 'class-validator';
import { BatchExecutor } from 'nestjs-batch';
import { Buffer } from 'node:buffer';
import process from 'node:process';
import { DispatcherHost } from '../dist/dispatch/dispatcher.host.js';
import { decodeNativeBatch } from '../dist/formats/native.format.js';
import { createBatchBenchApp } from './app.mjs';
import { httpPlatformOf } from '../dist/platform/platform.factory.js';
import { HttpAdapterHost } from '@nestjs/core';
import { postBatchTo, runFor } from './in-process.mjs';

const platform = process.argv[2] ?? 'fastify';
const OPS = 50;
// --dtos n: n more classes with class-validator rules first, as in a large app (as in breakdown).
const dtosAt = process.argv.indexOf('--dtos');
for (let i = 0; i < (dtosAt > 0 ? Number(process.argv[dtosAt + 1]) : 0); i++) {
  class AppDto {}
  IsString()(AppDto.prototype, 'name');
  IsInt()(AppDto.prototype, 'count');
}
const app = await createBatchBenchApp(platform);
const executor = app.get(BatchExecutor);
const body = Buffer.from('{"id":42,"name":"widget","price":9.99,"after":null}');
const text = String(body);
const fake = {
  dispatch: (request, parent, done) => {
    process.nextTick(() =>
      done({
        statusCode: 200,
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'content-length': String(body.length),
        },
        body,
        text,
        truncated: false,
      }),
    );
    return () => undefined;
  },
};
app.get(DispatcherHost).get = () => fake;
const wire = Buffer.from(
  JSON.stringify({ data: Array.from({ length: OPS }, () => ({ method: 'GET', url: '/item' })) }),
);
const headers = { host: 'localhost', 'content-type': 'application/json' };
const operations = decodeNativeBatch(JSON.parse(String(wire)), OPS);
const batchRequest = { headers, socket: { remoteAddress: '127.0.0.1' } };
const ONLY = process.argv[3]?.startsWith('--') ? undefined : process.argv[3];
const listener = httpPlatformOf(app.get(HttpAdapterHost)).listener;
const postBatch = postBatchTo(listener, wire, headers);
const allv = {
  request: postBatch,
  decode: (done) => {
    decodeNativeBatch(JSON.parse(String(wire)), OPS);
    done();
  },
  execute: (done) => void executor.execute(operations, { request: batchRequest }).then(done),
  encode: (done) =>
    void executor.execute(operations, { request: batchRequest }).then((e) => {
      JSON.stringify({ data: e });
      done();
    }),
};
const variants = Object.fromEntries(Object.entries(allv).filter(([n]) => !ONLY || n === ONLY));
for (const once of Object.values(variants)) await runFor(1, once, 1);
const res = {};
for (let r = 0; r < 5; r++)
  for (const [name, once] of Object.entries(variants)) {
    const { calls, cpuMicros } = await runFor(2, once, 1);
    (res[name] ??= []).push(cpuMicros / (calls * OPS));
  }
await app.close();
for (const [n, v] of Object.entries(res)) {
  v.sort((a, b) => a - b);
  console.log(n.padEnd(8), v[2].toFixed(2), `(${v[0].toFixed(2)}-${v[4].toFixed(2)})`);
}
