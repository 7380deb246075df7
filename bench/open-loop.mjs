// node --min-semi-space-size=16 bench/open-loop.mjs [--platform fastify] [--seconds 10]
//   [--loads 0.6,0.8,0.9] [--rounds 3] [--warmup 5]
//   [--variant name=<checkout>[:ENV=value,...]]...
//
// Batch latency under an open loop: POST /batch of 50 independent GETs arriving at random
// (Poisson) at a fixed rate, whatever the server's pace, as independent clients arrive. A closed
// loop (autocannon) cannot show a scheduling gain in latency: with N clients each waiting for its
// answer, the mean latency is N / throughput (Little's law). Each variant is a server process of
// its own (`bench/server.mjs nest` of a checkout, with its environment: `BENCH_GLOBAL` sets
// `globalConcurrency`); the rate is a fraction of the first variant's closed-loop capacity,
// measured once, so every variant gets the same arrivals. Latency runs from a batch's scheduled
// arrival to the end of its reply (a late send counts against the server: no coordinated
// omission). The variants alternate round by round. Prints p50, p90, p99 and the mean per
// variant and load, medians over the rounds. Not a test.
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { freePort } from '../scripts/free-port.mjs';

const argv = process.argv.slice(2);
const option = (name, fallback) => {
  const at = argv.indexOf(`--${name}`);
  return at >= 0 ? argv[at + 1] : fallback;
};
const PLATFORM = option('platform', 'fastify');
const SECONDS = Number(option('seconds', 10));
const WARMUP = Number(option('warmup', 5));
const ROUNDS = Number(option('rounds', 3));
const LOADS = option('loads', '0.6,0.8,0.9').split(',').map(Number);
const OPERATIONS = 50;

/** `name=<checkout>[:ENV=value,...]`; by default this checkout as it is. */
const VARIANTS = argv
  .flatMap((arg, i) => (arg === '--variant' ? [argv[i + 1]] : []))
  .map((spec) => {
    const [name, rest = '.'] = splitOnce(spec, '=');
    const [dir, envList = ''] = splitOnce(rest, ':');
    const env = Object.fromEntries(
      envList
        .split(',')
        .filter(Boolean)
        .map((pair) => splitOnce(pair, '=')),
    );
    return { name, dir, env };
  });
if (VARIANTS.length === 0) VARIANTS.push({ name: 'this', dir: '.', env: {} });

function splitOnce(text, separator) {
  const at = text.indexOf(separator);
  return at < 0 ? [text] : [text.slice(0, at), text.slice(at + separator.length)];
}

const body = JSON.stringify({
  data: Array.from({ length: OPERATIONS }, () => ({ method: 'GET', url: '/item' })),
});

async function start(variant) {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['--min-semi-space-size=16', 'bench/server.mjs', 'nest', String(port), PLATFORM],
    {
      cwd: variant.dir,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, ...variant.env },
    },
  );
  await new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => String(chunk).includes('listening') && resolve());
    child.once('exit', (code) => reject(new Error(`the ${variant.name} server exited (${code})`)));
  });
  // Resolves once the process is gone: the next server may take its port.
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    port,
    stop: () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Closed-loop batches per second (autocannon, 10 connections): the rate the loads scale. */
async function capacity(port, seconds) {
  const shot = {
    url: `http://127.0.0.1:${port}/batch`,
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json' },
    connections: 10,
  };
  const result = await autocannon({ ...shot, duration: seconds });
  return result.requests.total / result.duration;
}

/**
 * Sends batches at `rate` per second for `seconds`, Poisson arrivals, and resolves with each
 * one's latency in ms (from its scheduled arrival to the end of its reply).
 */
function openLoop(port, rate, seconds) {
  // As many connections as batches in flight: an arrival never waits for a free socket.
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
  const latencies = [];
  let failed = 0;
  let pending = 0;
  const begin = performance.now();
  const end = begin + seconds * 1000;
  let next = begin;
  return new Promise((resolve) => {
    const finish = () => {
      if (performance.now() >= end && pending === 0) {
        agent.destroy();
        resolve({ latencies, failed, seconds: (performance.now() - begin) / 1000 });
      }
    };
    const send = (scheduled) => {
      pending++;
      let settled = false;
      /** Once per batch, by whichever comes first: its reply's end, or an end without one. */
      const settle = (answered) => {
        if (settled) return;
        settled = true;
        if (answered) latencies.push(performance.now() - scheduled);
        else failed++;
        pending--;
        finish();
      };
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/batch',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': body.length },
        },
        (res) => {
          res.on('end', () => settle(res.statusCode === 200));
          res.on('error', () => undefined);
          res.on('close', () => settle(res.complete && res.statusCode === 200));
          res.resume();
        },
      );
      req.on('error', () => undefined);
      // Every request closes, answered or not: the last word when nothing else came.
      req.on('close', () => settle(req.res?.complete === true && req.res.statusCode === 200));
      req.end(body);
    };
    const tick = () => {
      const now = performance.now();
      while (next <= now && next < end) {
        send(next);
        // Exponential gaps: a Poisson process of the given rate.
        next += (-Math.log(1 - Math.random()) / rate) * 1000;
      }
      if (next < end) setTimeout(tick, Math.max(0, Math.min(5, next - performance.now())));
      // The next arrival falls past the end: the run ends at `end`, once the last reply is in.
      else setTimeout(finish, Math.max(0, end - performance.now()) + 1);
    };
    tick();
  });
}

const percentile = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const first = await start(VARIANTS[0]);
await capacity(first.port, WARMUP);
const batchesPerSecond = await capacity(first.port, SECONDS);
await first.stop();
process.stdout.write(
  `capacity (${VARIANTS[0].name}, closed loop, 10 connections): ${batchesPerSecond.toFixed(0)} batches/s (${Math.round(batchesPerSecond * OPERATIONS)} ops/s)\n`,
);

/** variant -> load -> figure -> one value per round */
const figures = new Map(VARIANTS.map((v) => [v.name, new Map(LOADS.map((l) => [l, {}]))]));
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? VARIANTS : [...VARIANTS].reverse();
  for (const variant of order) {
    const server = await start(variant);
    await capacity(server.port, WARMUP);
    for (const load of LOADS) {
      const rate = batchesPerSecond * load;
      const { latencies, failed, seconds } = await openLoop(server.port, rate, SECONDS);
      const sorted = latencies.sort((a, b) => a - b);
      const mean = sorted.reduce((sum, v) => sum + v, 0) / Math.max(1, sorted.length);
      const row = {
        p50: percentile(sorted, 0.5),
        p90: percentile(sorted, 0.9),
        p99: percentile(sorted, 0.99),
        mean,
        'ops/s': (sorted.length * OPERATIONS) / seconds,
        failed,
      };
      const into = figures.get(variant.name).get(load);
      for (const [key, value] of Object.entries(row)) (into[key] ??= []).push(value);
      process.stdout.write(
        `round ${round + 1} ${variant.name} load ${load}: ${Object.entries(row)
          .map(([k, v]) => `${k} ${k === 'ops/s' || k === 'failed' ? Math.round(v) : v.toFixed(1)}`)
          .join(', ')}\n`,
      );
    }
    await server.stop();
  }
}

process.stdout.write(`\nmedians of ${ROUNDS} rounds (latency in ms, batch of ${OPERATIONS}):\n`);
for (const load of LOADS) {
  for (const variant of VARIANTS) {
    const into = figures.get(variant.name).get(load);
    process.stdout.write(
      `load ${load} ${variant.name.padEnd(12)} ${Object.entries(into)
        .map(
          ([k, v]) =>
            `${k} ${k === 'ops/s' || k === 'failed' ? Math.round(median(v)) : median(v).toFixed(1)}`,
        )
        .join(', ')}\n`,
    );
  }
}
