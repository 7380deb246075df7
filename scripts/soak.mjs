// npm run soak [-- --seconds 60]
//
// Starts the sample app (with its lab routes) and drives POST /batch with autocannon for a bounded
// time, on loopback only: batches of 50 mixed operations (fast, slow, throwing, hanging past
// operationTimeout, refused by a guard, chained by dependencies), one batch in five a reference
// fan-out (a list referenced hundreds of times, in bodies and headers past their caps), while
// other clients send batches and drop the connection midway. Fails (exit 1) unless the batch endpoint never answered 5xx,
// RSS grew under 10% from the middle to the end, no batch took longer than its timeout + 1 s, and
// no operation was still running 2 s after the load stopped.
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './free-port.mjs';

const argIndex = process.argv.indexOf('--seconds');
const SECONDS = Number(
  argIndex > 0 ? process.argv[argIndex + 1] : (process.env.SOAK_SECONDS ?? 60),
);
// The sample's BatchModule options (sample/src/app.module.ts).
const BATCH_TIMEOUT_MS = 10_000;
const OPERATION_TIMEOUT_MS = 2_000;
const CONNECTIONS = 10;
const ABORTING_CLIENTS = 4;

if (!Number.isFinite(SECONDS) || SECONDS < 4) {
  console.error('soak: --seconds must be a number >= 4');
  process.exit(2);
}

/** One batch of 50: which kinds it mixes, and how many hang (only some batches do). */
function batch(variant) {
  const data = [];
  for (let i = 0; i < 24; i++) data.push({ method: 'GET', url: i % 2 ? '/todos' : '/todos/1' });
  for (let i = 0; i < 6; i++) data.push({ method: 'GET', url: `/lab/slow?ms=${20 + 30 * i}` });
  for (let i = 0; i < 4; i++) data.push({ method: 'GET', url: '/lab/fail' });
  for (let i = 0; i < 4; i++) data.push({ method: 'DELETE', url: '/todos/1' });
  for (let i = 0; i < 4; i++) {
    data.push({ method: 'GET', url: '/todos/1', name: `read${i}` });
    data.push({
      method: 'PATCH',
      url: `/todos/{result=read${i}:$.id}`,
      body: { done: i % 2 === 0 },
      dependsOn: [`read${i}`],
    });
  }
  const hanging = variant === 0 ? 4 : 0;
  for (let i = 0; i < 4; i++) {
    data.push(i < hanging ? { method: 'GET', url: '/lab/hang' } : { method: 'GET', url: '/todos' });
  }
  return JSON.stringify({ data });
}

/**
 * The fan-out mix, one batch of 50 in five: the todo list (50 todos) referenced all over, as an
 * attacker would: valid references in urls and bodies, `$..*` filling bodies (the app refuses
 * those with its own 400), `$..id` filling headers past the header cap (400 entries), just under
 * maxReferences (500).
 */
function fanOut() {
  const data = [{ method: 'GET', url: '/todos', name: 'list' }];
  for (let i = 0; i < 20; i++) {
    data.push({
      method: 'PATCH',
      url: '/todos/{result=list:$[0].id}',
      body: { title: 'x {result=list:$[1].title}' },
    });
  }
  for (let i = 0; i < 15; i++) {
    data.push({
      method: 'PATCH',
      url: '/todos/1',
      body: { title: Array(20).fill('{result=list:$..*}') },
    });
  }
  for (let i = 0; i < 14; i++) {
    data.push({
      method: 'GET',
      url: '/todos/1',
      headers: { 'x-ids': '{result=list:$..*}'.repeat(10) },
    });
  }
  return JSON.stringify({ data });
}

const BODIES = [...[0, 1, 2, 3].map(batch), fanOut()];

function call(port, method, path, body) {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method, path, headers: { 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode, body: text ? JSON.parse(text) : undefined }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function startSample(port) {
  const child = spawn(process.execPath, ['dist-sample/main.js'], {
    env: { ...process.env, PORT: String(port), SAMPLE_LAB: '1' },
    // Its stderr is the stack trace of every operation that throws on purpose.
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the sample exited with ${code}`)));
    child.stdout.on('data', (chunk) => {
      if (String(chunk).includes('listening')) resolve();
    });
  });
  return child;
}

/** Clients that send a batch and drop the connection after 5-300 ms, until `until`. */
async function abortingClient(port, until) {
  let aborted = 0;
  while (Date.now() < until) {
    await new Promise((resolve) => {
      const req = request({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/batch',
        headers: { 'content-type': 'application/json' },
      });
      req.on('error', () => resolve());
      req.on('response', (res) => res.resume().on('end', resolve));
      req.end(BODIES[0]);
      setTimeout(
        () => {
          req.destroy();
          aborted++;
          resolve();
        },
        5 + Math.random() * 295,
      );
    });
  }
  return aborted;
}

const mib = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

const port = await freePort();
const sample = await startSample(port);
let failed = false;
try {
  // 50 todos, so the fan-out mix references a list worth walking.
  for (let i = 0; i < 50; i++) {
    await call(port, 'POST', '/todos', JSON.stringify({ title: `soaked ${i}` }));
  }
  await call(port, 'POST', '/lab/stats/reset');
  const start = (await call(port, 'GET', '/lab/stats')).body;
  const half = (SECONDS * 1000) / 2;

  let next = 0;
  const load = autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: CONNECTIONS,
    duration: SECONDS,
    timeout: Math.ceil(BATCH_TIMEOUT_MS / 1000) * 3,
    requests: [
      {
        method: 'POST',
        path: '/batch',
        headers: { 'content-type': 'application/json' },
        setupRequest: (req) => ({ ...req, body: BODIES[next++ % BODIES.length] }),
      },
    ],
  });
  const aborting = Promise.all(
    Array.from({ length: ABORTING_CLIENTS }, () =>
      abortingClient(port, Date.now() + SECONDS * 1000 - 500),
    ),
  );
  await sleep(half);
  const middle = (await call(port, 'GET', '/lab/stats')).body;
  const [result, abortedCounts] = await Promise.all([load, aborting]);
  const end = (await call(port, 'GET', '/lab/stats')).body;
  await sleep(2_000);
  const after = (await call(port, 'GET', '/lab/stats')).body;

  const batches = result.requests.total;
  const growth = (end.rss - middle.rss) / middle.rss;
  const checks = [
    ['no 5xx from the batch endpoint', result['5xx'] === 0, `${result['5xx']} 5xx`],
    [
      'no connection errors or client timeouts',
      result.errors === 0 && result.timeouts === 0,
      `${result.errors} errors, ${result.timeouts} timeouts`,
    ],
    ['RSS growth middle -> end < 10%', growth < 0.1, `${(growth * 100).toFixed(1)}%`],
    [
      `slowest batch <= timeout + 1 s (${BATCH_TIMEOUT_MS + 1000} ms)`,
      result.latency.max <= BATCH_TIMEOUT_MS + 1000,
      `${result.latency.max} ms`,
    ],
    [
      'no operation running 2 s after the load',
      after.inFlight === 0,
      `${after.inFlight} in flight`,
    ],
  ];
  const report = {
    seconds: SECONDS,
    connections: CONNECTIONS,
    batchesPerSecond: +(batches / SECONDS).toFixed(1),
    operationsPerSecond: Math.round((batches * 50) / SECONDS),
    non2xxBatchReplies: result.non2xx,
    abortedBatches: abortedCounts.reduce((sum, n) => sum + n, 0),
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
    rss: { start: mib(start.rss), middle: mib(middle.rss), end: mib(end.rss) },
    worstEventLoopDelayMs: +after.eventLoopDelayMaxMs.toFixed(1),
    inFlightAfter2s: after.inFlight,
    operationTimeoutMs: OPERATION_TIMEOUT_MS,
  };
  console.log(JSON.stringify(report, null, 2));
  for (const [name, ok, value] of checks) {
    console.log(`${ok ? 'PASS' : 'FAIL'}  ${name}: ${value}`);
    if (!ok) failed = true;
  }
} finally {
  sample.kill('SIGTERM');
}
process.exit(failed ? 1 : 0);
