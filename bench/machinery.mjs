// node --min-semi-space-size=16 bench/machinery.mjs [express|fastify] [request|decode|execute|encode]
//   [--dtos n] [--against <checkout>] [--rounds n] [--large] [--ops n] [--real]
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
// noise on the app's, this tells it apart. --large: every answer is 10 KiB of JSON (bench/app.mjs's
// GET /large) instead of 52 bytes, so the stages' per-byte work shows. --ops n: n operations a
// batch instead of 50; `--ops 1` shows what a batch costs whatever its size. --real: the app's own
// dispatcher, each operation a GET /item through the app, as `npm run bench` batches them: the
// batched operation's whole in-process CPU, app included, for comparing builds on that path.
//
// --against <checkout>: the same stages of another build (a checkout with `dist/` built, e.g. a
// `git worktree` of the commit before a change) in this same process, the two alternating in
// slices of 1 s, 16 rounds. It prints each build's median and the median of the per-round ratios
// (this build / the other) with their quartiles. On this kind of shared VM the same build ran 30%
// faster from one process to the next, so two runs in separate processes cannot show a 10%
// change; slices that alternate inside one process can.
import { IsInt, IsString } from 'class-validator';
import { Buffer } from 'node:buffer';
import process from 'node:process';
import { resolve } from 'node:path';
import { pathToFileURL, URL } from 'node:url';
import { largeBody } from './app.mjs';
import { runFor } from './in-process.mjs';

const option = (name) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : undefined;
};
const positional = process.argv.slice(2).filter((arg, i, all) => {
  return !arg.startsWith('--') && !all[i - 1]?.startsWith('--');
});
const [platform = 'fastify', ONLY] = positional;
const AGAINST = option('against');
const ROUNDS = Number(option('rounds') ?? (AGAINST ? 16 : 5));
const SLICE_SECONDS = AGAINST ? 1 : 2;
const OPS = Number(option('ops') ?? 50);
const REAL = process.argv.includes('--real');
// --dtos n: n more classes with class-validator rules first, as in a large app (as in breakdown).
for (let i = 0; i < Number(option('dtos') ?? 0); i++) {
  class AppDto {}
  IsString()(AppDto.prototype, 'name');
  IsInt()(AppDto.prototype, 'count');
}

const body = Buffer.from(
  process.argv.includes('--large')
    ? JSON.stringify(largeBody())
    : '{"id":42,"name":"widget","price":9.99,"after":null}',
);
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
const wire = Buffer.from(
  JSON.stringify({ data: Array.from({ length: OPS }, () => ({ method: 'GET', url: '/item' })) }),
);
const headers = { host: 'localhost', 'content-type': 'application/json' };
const batchRequest = { headers, socket: { remoteAddress: '127.0.0.1' } };

/** The stages of the build in `root` (a checkout with dist/ built), on an app of its own. */
async function stagesOf(root) {
  const from = (path) => import(new URL(path, root).href);
  const { createBatchBenchApp } = await from('bench/app.mjs');
  const { postBatchTo } = await from('bench/in-process.mjs');
  const { BatchExecutor } = await from('dist/index.js');
  const { DispatcherHost } = await from('dist/dispatch/dispatcher.host.js');
  const { decodeNativeBatch } = await from('dist/formats/native.format.js');
  const { httpPlatformOf } = await from('dist/platform/platform.factory.js');
  const { HttpAdapterHost } = await import('@nestjs/core');
  const app = await createBatchBenchApp(platform);
  const executor = app.get(BatchExecutor);
  if (!REAL) app.get(DispatcherHost).get = () => fake;
  const operations = decodeNativeBatch(JSON.parse(String(wire)), OPS);
  const listener = httpPlatformOf(app.get(HttpAdapterHost)).listener;
  const all = {
    request: postBatchTo(listener, wire, headers),
    decode: (done) => {
      decodeNativeBatch(JSON.parse(String(wire)), OPS);
      done();
    },
    execute: (done) => void executor.execute(operations, { request: batchRequest }).then(done),
    encode: (done) =>
      void executor.execute(operations, { request: batchRequest }).then((entries) => {
        JSON.stringify({ data: entries });
        done();
      }),
  };
  const stages = Object.fromEntries(Object.entries(all).filter(([n]) => !ONLY || n === ONLY));
  return { app, stages };
}

const sorted = (values) => [...values].sort((a, b) => a - b);
const at = (values, fraction) => sorted(values)[Math.round((values.length - 1) * fraction)];

const builds = { this: await stagesOf(new URL('../', import.meta.url)) };
if (AGAINST) builds.other = await stagesOf(pathToFileURL(`${resolve(AGAINST)}/`));
for (const { stages } of Object.values(builds))
  for (const once of Object.values(stages)) await runFor(1, once, 1);

/** µs per operation, by build and stage, one figure per round. */
const figures = {};
for (let round = 0; round < ROUNDS; round++) {
  const order = Object.keys(builds);
  if (round % 2) order.reverse(); // drift within a round hits both alike
  for (const build of order)
    for (const [stage, once] of Object.entries(builds[build].stages)) {
      const { calls, cpuMicros } = await runFor(SLICE_SECONDS, once, 1);
      ((figures[stage] ??= {})[build] ??= []).push(cpuMicros / (calls * OPS));
    }
}
for (const { app } of Object.values(builds)) await app.close();

for (const [stage, byBuild] of Object.entries(figures)) {
  const range = (v) => `${at(v, 0.5).toFixed(2)} (${at(v, 0).toFixed(2)}-${at(v, 1).toFixed(2)})`;
  if (!AGAINST) {
    console.log(stage.padEnd(8), range(byBuild.this));
    continue;
  }
  const ratios = byBuild.this.map((value, round) => value / byBuild.other[round]);
  console.log(
    stage.padEnd(8),
    `this ${range(byBuild.this)}, other ${range(byBuild.other)} µs/op;`,
    `this/other ${at(ratios, 0.5).toFixed(2)} (quartiles ${at(ratios, 0.25).toFixed(2)}-${at(ratios, 0.75).toFixed(2)})`,
  );
}
