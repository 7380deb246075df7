// node --min-semi-space-size=16 bench/concurrency.mjs [--seconds 3 --rounds 3 --platform fastify]
//
// The `concurrency` default, measured: batched throughput (POST /batch of 50 independent GETs,
// autocannon, 10 connections) and one batch's wall at 20 ms RTT, for several values, each on a
// server process of its own, the values alternating round by round. Not a test.
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { freePort } from '../scripts/free-port.mjs';
import { countingProxy } from './h2.mjs';

const option = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : fallback;
};
const SECONDS = Number(option('seconds', 3));
const ROUNDS = Number(option('rounds', 3));
const PLATFORM = option('platform', 'fastify');
const VALUES = [10, 25, 50];
const body = JSON.stringify({
  data: Array.from({ length: 50 }, () => ({ method: 'GET', url: '/item' })),
});

async function start(concurrency) {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [...process.execArgv, 'bench/server.mjs', 'nest', String(port), PLATFORM],
    {
      stdio: ['ignore', 'pipe', 'ignore'],
      env: { ...process.env, BENCH_CONCURRENCY: String(concurrency) },
    },
  );
  await new Promise((resolve) =>
    child.stdout.on('data', (chunk) => String(chunk).includes('listening') && resolve()),
  );
  return { port, stop: () => child.kill('SIGTERM') };
}

const post = (port) =>
  new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/batch',
        headers: { 'content-type': 'application/json' },
      },
      (res) => res.resume().on('end', resolve),
    );
    req.on('error', reject);
    req.end(body);
  });

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const opsPerSecond = Object.fromEntries(VALUES.map((v) => [v, []]));
const wallMs = Object.fromEntries(VALUES.map((v) => [v, []]));
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? VALUES : [...VALUES].reverse();
  for (const concurrency of order) {
    const server = await start(concurrency);
    const url = `http://127.0.0.1:${server.port}/batch`;
    const shot = { url, method: 'POST', body, headers: { 'content-type': 'application/json' } };
    await autocannon({ ...shot, connections: 10, duration: 1 }); // warm-up
    const result = await autocannon({ ...shot, connections: 10, duration: SECONDS });
    opsPerSecond[concurrency].push((result.requests.total / result.duration) * 50);
    const proxy = await countingProxy(server.port, 10);
    await post(proxy.port);
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      await post(proxy.port);
      wallMs[concurrency].push(performance.now() - started);
    }
    proxy.close();
    server.stop();
  }
}
console.log(
  `${PLATFORM}: concurrency, batched ops/s (median of ${ROUNDS} x ${SECONDS} s), one batch's wall at 20 ms RTT (median)`,
);
for (const v of VALUES) {
  const ops = opsPerSecond[v];
  console.log(
    `  ${String(v).padStart(3)}  ${Math.round(median(ops))} ops/s (${Math.round(Math.min(...ops))}-${Math.round(Math.max(...ops))})  ${median(wallMs[v]).toFixed(1)} ms`,
  );
}
