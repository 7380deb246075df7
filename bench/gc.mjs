// node --min-semi-space-size=16 bench/gc.mjs [express|fastify] [--seconds 3 --rounds 3]
//   [--against <checkout>]
//
// What a batched operation costs the garbage collector, beside what the same operation costs it
// dispatched alone: in one process, the dispatch floor (one GET through the library's dispatcher,
// 10 in flight) and in-process batches (POST /batch with 50 such GETs, 10 in flight) alternate;
// for each, the GC pauses per 1000 operations (scavenges and mark-compacts, from a
// PerformanceObserver) and their time per operation, and the bytes allocated per operation (the
// sampling heap profiler, counting what was collected too, in a last round of each). A profiling
// aid, not a target.
//
// --against <checkout>: the same two variants of another build (a checkout with `dist/` built,
// e.g. a `git worktree` of the commit before a change), on an app of its own in this same
// process, the builds alternating round by round; it prints both builds' figures and this/other.
// The two apps share one heap, so each build's GC time includes collecting what the other left:
// alike for both, and the ratio is the figure to read.
import { Session } from 'node:inspector/promises';
import { resolve } from 'node:path';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import process from 'node:process';
import { pathToFileURL, URL } from 'node:url';
import { runFor } from './in-process.mjs';

const option = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : fallback;
};
const platform = process.argv[2]?.startsWith('--') === false ? process.argv[2] : 'fastify';
const SECONDS = Number(option('seconds', 3));
const ROUNDS = Number(option('rounds', 3));
const AGAINST = option('against');
const OPS = 50;

/** The floor and the batch of the build in `root` (a checkout with dist/ built). */
async function variantsOf(root) {
  const from = (path) => import(new URL(path, root).href);
  const { createBatchBenchApp } = await from('bench/app.mjs');
  const { dispatchTo, postBatchTo } = await from('bench/in-process.mjs');
  const { DispatcherHost } = await from('dist/dispatch/dispatcher.host.js');
  const { createParentContext } = await from('dist/dispatch/parent.context.js');
  const { httpPlatformOf } = await from('dist/platform/platform.factory.js');
  const { HttpAdapterHost } = await import('@nestjs/core');
  const { Buffer } = await import('node:buffer');
  const app = await createBatchBenchApp(platform);
  const listener = httpPlatformOf(app.get(HttpAdapterHost)).listener;
  const headers = { host: 'localhost', 'content-type': 'application/json' };
  const parent = createParentContext({ headers, socket: { remoteAddress: '127.0.0.1' } }, []);
  const floorRequest = {
    method: 'GET',
    url: '/item',
    headers: parent.headers,
    info: { index: 0 },
  };
  const wire = Buffer.from(
    JSON.stringify({
      data: Array.from({ length: OPS }, () => ({ method: 'GET', url: '/item' })),
    }),
  );
  // [call, operations per call]
  const variants = {
    floor: [dispatchTo(app.get(DispatcherHost).get(), floorRequest, parent), 1],
    batch: [postBatchTo(listener, wire, headers), OPS],
  };
  return { app, variants };
}

const builds = { this: await variantsOf(new URL('../', import.meta.url)) };
if (AGAINST) builds.other = await variantsOf(pathToFileURL(`${resolve(AGAINST)}/`));

const gc = { minor: 0, major: 0, ms: 0 };
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gc.ms += entry.duration;
    if (entry.detail.kind === constants.NODE_PERFORMANCE_GC_MINOR) gc.minor++;
    else gc.major++;
  }
}).observe({ entryTypes: ['gc'] });

for (const { variants } of Object.values(builds))
  for (const [once] of Object.values(variants)) await runFor(1, once, 10);
/** `${build} ${variant}` -> one row per round. */
const rows = {};
for (let round = 0; round < ROUNDS; round++) {
  const order = Object.keys(builds);
  if (round % 2) order.reverse(); // drift within a round hits both builds alike
  for (const build of order)
    for (const [name, [once, perCall]] of Object.entries(builds[build].variants)) {
      const before = { ...gc };
      const { calls } = await runFor(SECONDS, once, 10);
      // The observer hears of a pause after it: let the last ones in.
      await new Promise((resolve) => setTimeout(resolve, 50));
      const thousands = (calls * perCall) / 1000;
      (rows[`${build} ${name}`] ??= []).push({
        scavenges: (gc.minor - before.minor) / thousands,
        markCompacts: (gc.major - before.major) / thousands,
        gcMicros: (gc.ms - before.ms) / thousands,
      });
    }
}

const session = new Session();
session.connect();
await session.post('HeapProfiler.enable');
const allocated = {};
for (const [build, { variants }] of Object.entries(builds))
  for (const [name, [once, perCall]] of Object.entries(variants)) {
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: 1024,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    const { calls } = await runFor(2, once, 10);
    const { profile } = await session.post('HeapProfiler.stopSampling');
    let bytes = 0;
    const walk = (node) => {
      bytes += node.selfSize;
      node.children.forEach(walk);
    };
    walk(profile.head);
    allocated[`${build} ${name}`] = bytes / (calls * perCall);
  }
for (const { app } of Object.values(builds)) await app.close();

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const of = (key, field) => median(rows[key].map((row) => row[field]));
console.log(`${platform}: medians of ${ROUNDS} rounds of ${SECONDS} s, allocation from a last 2 s`);
for (const key of Object.keys(rows)) {
  console.log(
    `${(AGAINST ? key : key.slice(5)).padEnd(11)} scavenges/1k ops ${of(key, 'scavenges').toFixed(2)}, ` +
      `mark-compacts/1k ops ${of(key, 'markCompacts').toFixed(3)}, GC ${of(key, 'gcMicros').toFixed(2)} µs/op, ` +
      `allocated ${(allocated[key] / 1024).toFixed(1)} KiB/op`,
  );
}
for (const build of Object.keys(builds)) {
  const gcOver = of(`${build} batch`, 'gcMicros') - of(`${build} floor`, 'gcMicros');
  const bytesOver = (allocated[`${build} batch`] - allocated[`${build} floor`]) / 1024;
  console.log(
    `${AGAINST ? `${build}: ` : ''}a batched operation over the floor's: GC ${gcOver >= 0 ? '+' : ''}` +
      `${gcOver.toFixed(2)} µs/op, allocated ${bytesOver >= 0 ? '+' : ''}${bytesOver.toFixed(1)} KiB/op`,
  );
}
if (AGAINST) {
  const ratio = (a, b) => (a / b).toFixed(2);
  for (const name of ['floor', 'batch']) {
    const perRound = rows[`this ${name}`].map(
      (row, i) => row.gcMicros / rows[`other ${name}`][i].gcMicros,
    );
    console.log(
      `${name.padEnd(6)} this/other: GC µs/op ${median(perRound).toFixed(2)} ` +
        `(rounds ${Math.min(...perRound).toFixed(2)}-${Math.max(...perRound).toFixed(2)}), ` +
        `allocated ${ratio(allocated[`this ${name}`], allocated[`other ${name}`])}`,
    );
  }
}
