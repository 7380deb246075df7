// node --min-semi-space-size=16 bench/gc.mjs [express|fastify] [--seconds 3 --rounds 3]
//
// What a batched operation costs the garbage collector, beside what the same operation costs it
// dispatched alone: in one process, the dispatch floor (one GET through the library's dispatcher,
// 10 in flight) and in-process batches (POST /batch with 50 such GETs, 10 in flight) alternate;
// for each, the GC pauses per 1000 operations (scavenges and mark-compacts, from a
// PerformanceObserver) and their time per operation, and the bytes allocated per operation (the
// sampling heap profiler, counting what was collected too, in a last round of each). A profiling
// aid, not a target.
import { HttpAdapterHost } from '@nestjs/core';
import { Buffer } from 'node:buffer';
import { Session } from 'node:inspector/promises';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import process from 'node:process';
import { DispatcherHost } from '../dist/dispatch/dispatcher.host.js';
import { createParentContext } from '../dist/dispatch/parent.context.js';
import { httpPlatformOf } from '../dist/platform/platform.factory.js';
import { createBatchBenchApp } from './app.mjs';
import { dispatchTo, postBatchTo, runFor } from './in-process.mjs';

const option = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return Number(at > 0 ? process.argv[at + 1] : fallback);
};
const platform = process.argv[2]?.startsWith('--') === false ? process.argv[2] : 'fastify';
const SECONDS = option('seconds', 3);
const ROUNDS = option('rounds', 3);
const OPS = 50;

const app = await createBatchBenchApp(platform);
const listener = httpPlatformOf(app.get(HttpAdapterHost)).listener;
const headers = { host: 'localhost', 'content-type': 'application/json' };
const parent = createParentContext({ headers, socket: { remoteAddress: '127.0.0.1' } }, []);
const floorRequest = { method: 'GET', url: '/item', headers: parent.headers, info: { index: 0 } };
const wire = Buffer.from(
  JSON.stringify({ data: Array.from({ length: OPS }, () => ({ method: 'GET', url: '/item' })) }),
);
// [call, operations per call]
const variants = {
  floor: [dispatchTo(app.get(DispatcherHost).get(), floorRequest, parent), 1],
  batch: [postBatchTo(listener, wire, headers), OPS],
};

const gc = { minor: 0, major: 0, ms: 0 };
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gc.ms += entry.duration;
    if (entry.detail.kind === constants.NODE_PERFORMANCE_GC_MINOR) gc.minor++;
    else gc.major++;
  }
}).observe({ entryTypes: ['gc'] });

for (const [once] of Object.values(variants)) await runFor(1, once, 10);
const rows = {};
for (let round = 0; round < ROUNDS; round++)
  for (const [name, [once, perCall]] of Object.entries(variants)) {
    const before = { ...gc };
    const { calls } = await runFor(SECONDS, once, 10);
    // The observer hears of a pause after it: let the last ones in.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const thousands = (calls * perCall) / 1000;
    (rows[name] ??= []).push({
      scavenges: (gc.minor - before.minor) / thousands,
      markCompacts: (gc.major - before.major) / thousands,
      gcMicros: (gc.ms - before.ms) / thousands,
    });
  }

const session = new Session();
session.connect();
await session.post('HeapProfiler.enable');
const allocated = {};
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
  allocated[name] = bytes / (calls * perCall);
}
await app.close();

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
for (const [name, list] of Object.entries(rows)) {
  const of = (key) => median(list.map((row) => row[key]));
  console.log(
    `${name.padEnd(6)} scavenges/1k ops ${of('scavenges').toFixed(2)}, mark-compacts/1k ops ` +
      `${of('markCompacts').toFixed(3)}, GC ${of('gcMicros').toFixed(2)} µs/op, ` +
      `allocated ${(allocated[name] / 1024).toFixed(1)} KiB/op`,
  );
}
