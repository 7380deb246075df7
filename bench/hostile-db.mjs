// npm run bench:hostile-db [-- --platform express|fastify --samples 30 --batch '{...}']
//
// What atomic groups may hold of the database: the atomic-group app of the tests
// (test/fixtures/atomic-app.mjs: TypeORM on PostgreSQL, pool of 10, @nestjs-cls/transactional
// wired as README shows) against a PostgreSQL server of its own (Debian's `postgresql`, started
// in a temporary directory). It measures a direct `GET /rows/count` (one every 100 ms) alone,
// while one hostile batch runs (10 groups, each `POST /rows` then a 3 s wait that touches no
// database), and while five run at once. The target: the direct read within 2x of alone.
// `--batch` passes BatchModule options (JSON): `{"groupConcurrency":10,"globalGroupConcurrency":0}`
// opens every group at once, as the library did before the caps. Not a test: exits 0 unless it
// cannot run. Wrap runs on a shared machine in `flock /tmp/bench.lock`.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, URL } from 'node:url';
import { freePort } from '../scripts/free-port.mjs';

const option = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : fallback;
};
const platform = option('platform', 'express');
const samples = Number(option('samples', '30'));
const batchOptions = option('batch', '{}');

/** Debian's PostgreSQL binaries, as test/utils/postgres.ts finds them. */
function postgresBinaries() {
  const debian = '/usr/lib/postgresql';
  if (!existsSync(debian)) return undefined;
  for (const version of readdirSync(debian).sort((a, b) => Number(b) - Number(a))) {
    const bin = join(debian, version, 'bin');
    if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'pg_ctl'))) return bin;
  }
  return undefined;
}

/** initdb + pg_ctl start in a temporary directory (as the `postgres` user when root). */
async function startPostgres(bin) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-pg-'));
  const data = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const id = (flag) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }));
    chownSync(dir, id('-u'), id('-g'));
    chmodSync(dir, 0o700);
  }
  const run = (command, args) => {
    const [file, argv] = asRoot
      ? ['runuser', ['-u', 'postgres', '--', join(bin, command), ...args]]
      : [join(bin, command), args];
    execFileSync(file, argv, { stdio: 'pipe', cwd: dir });
  };
  const port = await freePort();
  run('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync']);
  const settings = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=40`;
  run('pg_ctl', ['start', '-D', data, '-w', '-l', join(dir, 'log'), '-o', settings]);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop: () => {
      try {
        run('pg_ctl', ['stop', '-D', data, '-m', 'immediate', '-w']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** The tests' atomic-group app, in a process of its own; resolves with its port. */
async function startApp(database) {
  const child = spawn(
    process.execPath,
    [fileURLToPath(new URL('../test/fixtures/atomic-app.mjs', import.meta.url))],
    {
      env: { ...process.env, PLATFORM: platform, DB: database, HOOK: '1', BATCH: batchOptions },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let output = '';
  const port = await new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      output += chunk.toString();
      const match = /listening (\d+)/.exec(output);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`the app exited with ${code}`)));
  });
  return { port, stop: () => child.kill('SIGTERM') };
}

/** One request; resolves with its status once the whole answer arrived. */
function send(port, method, path, body, signal) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        signal,
        headers: payload ? { 'content-type': 'application/json' } : {},
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** A batch of 10 groups, each a write then a 3 s wait that touches no database. */
const hostile = (n) => ({
  data: Array.from({ length: 10 }, (_, group) => [
    { method: 'POST', url: '/rows', atomicityGroup: `g${group}`, body: { name: `h${n}-${group}` } },
    { method: 'GET', url: '/rows/sleep/3000', atomicityGroup: `g${group}` },
  ]).flat(),
});

/** Direct reads, one every 100 ms; their latencies in ms. */
async function directReads(port) {
  const latencies = [];
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    const status = await send(port, 'GET', '/rows/count');
    if (status !== 200) throw new Error(`GET /rows/count answered ${status}`);
    latencies.push(performance.now() - started);
    await sleep(Math.max(0, 100 - (performance.now() - started)));
  }
  return latencies.sort((a, b) => a - b);
}

const at = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const ms = (value) => `${value.toFixed(1)} ms`;

async function scenario(port, attackers) {
  const stop = new globalThis.AbortController();
  const batches = Array.from({ length: attackers }, (_, n) =>
    send(port, 'POST', '/batch', hostile(n), stop.signal).catch(() => undefined),
  );
  // The batches' first groups open before the first read.
  if (attackers > 0) await sleep(200);
  const latencies = await directReads(port);
  stop.abort();
  await Promise.all(batches);
  // Cut-off groups roll back at once; their waits end on their own within 3 s.
  if (attackers > 0) await sleep(3200);
  return { median: at(latencies, 0.5), p95: at(latencies, 0.95), max: at(latencies, 1) };
}

const bin = postgresBinaries();
if (!bin) {
  console.log('hostile-db: no PostgreSQL binaries (apt-get install postgresql): skipped');
  process.exit(0);
}
const server = await startPostgres(bin);
let app;
try {
  app = await startApp(server.url);
  await send(app.port, 'GET', '/rows/count'); // the pool's first connection
  console.log(`platform ${platform}, pool of 10, BatchModule options ${batchOptions}`);
  const alone = await scenario(app.port, 0);
  for (const [label, attackers] of [
    ['alone', 0],
    ['one hostile batch', 1],
    ['five hostile batches', 5],
  ]) {
    const figures = attackers === 0 ? alone : await scenario(app.port, attackers);
    const ratios = `median ${(figures.median / alone.median).toFixed(2)}x, p95 ${(figures.p95 / alone.p95).toFixed(2)}x alone`;
    console.log(
      `${label.padEnd(22)} direct read: median ${ms(figures.median)}, p95 ${ms(figures.p95)}, max ${ms(figures.max)}` +
        (attackers === 0 ? '' : `  (${ratios})`),
    );
  }
} finally {
  app?.stop();
  server.stop();
}
