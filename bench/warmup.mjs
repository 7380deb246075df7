// node --min-semi-space-size=16 bench/warmup.mjs [express|fastify] [--windows 8 --runs 2]
//
// How long each variant of `npm run bench` takes to reach its steady throughput from a fresh
// process, which sets how long run.mjs warms each one up (its --warmup): per 2 s window, the
// ops/s of POST /batch (50 GETs, 10 connections, through autocannon) against a fresh server
// process, and of the in-process dispatch floor (10 in flight) in a fresh process of its own.
// Each run starts both anew. A profiling aid, not a target.
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import process from 'node:process';
import { freePort } from '../scripts/free-port.mjs';

const option = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return Number(at > 0 ? process.argv[at + 1] : fallback);
};
const platform = process.argv[2]?.startsWith('--') === false ? process.argv[2] : 'fastify';
const WINDOWS = option('windows', 8);
const RUNS = option('runs', 2);
const WINDOW_SECONDS = 2;
const gets = JSON.stringify({
  data: Array.from({ length: 50 }, () => ({ method: 'GET', url: '/item' })),
});

/** Starts `node bench/server.mjs <args>` with this process's flags; resolves on `onLine`. */
function start(args, onLine) {
  const child = spawn(process.execPath, [...process.execArgv, 'bench/server.mjs', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // Whole lines only: a chunk may end inside one.
  let rest = '';
  child.stdout.setEncoding('utf8').on('data', (text) => {
    const lines = (rest + text).split('\n');
    rest = lines.pop() ?? '';
    lines.forEach(onLine);
  });
  return child;
}

/** The batched ops/s of a fresh server, window by window. */
async function batchedSeries() {
  const port = await freePort();
  let ready;
  const listening = new Promise((resolve) => (ready = resolve));
  const server = start(['nest', String(port), platform], (line) => {
    if (line.includes('listening')) ready();
  });
  await listening;
  const series = [];
  for (let window = 0; window < WINDOWS; window++) {
    const result = await autocannon({
      url: `http://127.0.0.1:${port}/batch`,
      connections: 10,
      duration: WINDOW_SECONDS,
      method: 'POST',
      body: gets,
      headers: { 'content-type': 'application/json' },
    });
    series.push((result.requests.total * 50) / (result.duration || WINDOW_SECONDS));
  }
  server.kill('SIGTERM');
  return series;
}

/** The floor's ops/s in a fresh process, window by window (`floor-series` of server.mjs). */
function floorSeries() {
  return new Promise((resolve, reject) => {
    const series = [];
    const floor = start(
      ['floor-series', String(WINDOWS), platform, String(WINDOW_SECONDS)],
      (line) => line.trim() && series.push(JSON.parse(line).opsPerSecond),
    );
    floor.once('exit', (code) => (code === 0 ? resolve(series) : reject(new Error(`${code}`))));
  });
}

const thousands = (series) => series.map((ops) => (ops / 1000).toFixed(1).padStart(5)).join(' ');
console.log(`${platform}: k ops/s per ${WINDOW_SECONDS} s window from a fresh process`);
for (let run = 0; run < RUNS; run++) {
  console.log(`  batched ${thousands(await batchedSeries())}`);
  console.log(`  floor   ${thousands(await floorSeries())}`);
}
