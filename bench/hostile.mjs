// npm run bench:hostile [-- --seconds 6 --platform express|fastify]
//
// Hostile batches against an app in a child process, on loopback: reference fan-out (one large
// response referenced hundreds of times, `$..*` and `$..id` over many nodes, descendant walks that
// match nothing), header-heavy batches (headers filled by references past the header cap) and
// decoded bodies (gzip of NUL bytes typed JSON, a brotli bomb).
// For each scenario it reports the worst event-loop block in the app (monitorEventLoopDelay, max),
// the RSS growth, the slowest batch, and what a direct client waited meanwhile (max latency of a
// GET sent every 20 ms). The target is a worst block under 100 ms. Not a test: it exits 0 unless
// it cannot run. Wrap runs on a shared machine in `flock /tmp/bench.lock`.
//
// `--only 0,2` runs some scenarios; `--clients 2` sets the attackers per scenario.
// `node bench/hostile.mjs serve <port> [platform]` is the child: the app under attack.
// BATCH_MODULE=<path of an index.js> measures another build (e.g. an older commit's).
import { Buffer } from 'node:buffer';
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import { brotliCompressSync, constants as zlibConstants, gzipSync } from 'node:zlib';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL, URL } from 'node:url';
import { freePort } from '../scripts/free-port.mjs';

const option = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : fallback;
};

if (process.argv[2] === 'serve') {
  await serve(Number(process.argv[3]), process.argv[4] ?? 'express');
} else {
  await attack();
}

/** The app under attack: large bodies to reference, an echo, and its own event-loop figures. */
async function serve(port, platform) {
  // Exits (rather than dies) on a signal, so `node --cpu-prof` writes its profile.
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
  await import('reflect-metadata');
  const { Body, Controller, Get, HttpCode, Module, Post, Query, Res } =
    await import('@nestjs/common');
  const { NestFactory } = await import('@nestjs/core');
  const { ExpressAdapter } = await import('@nestjs/platform-express');
  const { FastifyAdapter } = await import('@nestjs/platform-fastify');
  const { BatchModule } = await import(
    process.env.BATCH_MODULE ? pathToFileURL(process.env.BATCH_MODULE).href : 'nestjs-batch'
  );
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  // The longest garbage-collection pause: a block the event loop shows may be the collector's.
  let gcMaxMs = 0;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcMaxMs = Math.max(gcMaxMs, entry.duration);
  }).observe({ entryTypes: ['gc'] });

  // Decorators applied as functions: plain JavaScript, no build step of its own.
  const route = (decorator, target, name) =>
    decorator(target.prototype, name, Object.getOwnPropertyDescriptor(target.prototype, name));
  class HostileController {
    items(n) {
      return Array.from({ length: Number(n) }, (_, id) => ({
        id,
        name: `item ${id}`,
        done: false,
      }));
    }
    text(bytes) {
      return { text: 'x'.repeat(Number(bytes)) };
    }
    echo(body) {
      // A small answer, so the reply does not dominate what is measured.
      return { bytes: JSON.stringify(body ?? null).length };
    }
    stats() {
      return {
        eventLoopDelayMaxMs: loop.max / 1e6,
        eventLoopDelayP99Ms: loop.percentile(99) / 1e6,
        gcMaxMs,
        rss: process.memoryUsage().rss,
      };
    }
    reset() {
      loop.reset();
      gcMaxMs = 0;
    }
    // Decoded bodies: NUL bytes typed as JSON, gzipped (4 KiB a 4 MiB), and a brotli bomb.
    gz(mb, response) {
      const body = (gzipped[mb] ??= gzipSync(Buffer.alloc(Number(mb) * 1024 * 1024)));
      rawOf(response).writeHead(200, {
        'content-type': 'application/json; charset=utf-8',
        'content-encoding': 'gzip',
        'content-length': body.length,
      });
      rawOf(response).end(body);
    }
    br(response) {
      rawOf(response).writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-encoding': 'br',
        'content-length': brotliBomb.length,
      });
      rawOf(response).end(brotliBomb);
    }
  }
  const gzipped = {};
  // 256 MiB of zeros in a few hundred bytes, made once (quality 4: seconds, not minutes).
  const brotliBomb = brotliCompressSync(Buffer.alloc(256 * 1024 * 1024), {
    params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 4 },
  });
  // The Node response under either adapter's reply.
  const rawOf = (reply) => reply.raw ?? reply;
  route(Get('items'), HostileController, 'items');
  Query('n')(HostileController.prototype, 'items', 0);
  route(Get('text'), HostileController, 'text');
  Query('bytes')(HostileController.prototype, 'text', 0);
  route(Post('echo'), HostileController, 'echo');
  route(HttpCode(200), HostileController, 'echo');
  Body()(HostileController.prototype, 'echo', 0);
  route(Get('gz'), HostileController, 'gz');
  Query('mb')(HostileController.prototype, 'gz', 0);
  Res()(HostileController.prototype, 'gz', 1);
  route(Get('br'), HostileController, 'br');
  Res()(HostileController.prototype, 'br', 0);
  route(Get('stats'), HostileController, 'stats');
  route(Post('stats/reset'), HostileController, 'reset');
  Controller()(HostileController);
  class HostileModule {}
  Module({
    imports: [BatchModule.forRoot({ timeout: 10_000 })],
    controllers: [HostileController],
  })(HostileModule);

  const app = await NestFactory.create(
    HostileModule,
    platform === 'fastify'
      ? new FastifyAdapter({ bodyLimit: 8 * 1024 * 1024 })
      : new ExpressAdapter(),
    { logger: false, bodyParser: platform === 'fastify' },
  );
  if (platform !== 'fastify') app.useBodyParser('json', { limit: '8mb' });
  await app.listen(port, '127.0.0.1');
  process.stdout.write(`listening ${port}\n`);
}

/** The scenarios: name, and the batch bodies a client cycles through. */
function scenarios() {
  const batch = (data) => JSON.stringify({ data });
  const many = (count, make) => Array.from({ length: count }, (_, i) => make(i));
  return [
    [
      'baseline (not hostile): 50 x GET /items?n=10, the noise floor of this machine',
      [batch(many(50, () => ({ method: 'GET', url: '/items?n=10' })))],
    ],
    [
      "issue's 6 KiB batch: 300 x $..id over 5000 items",
      [
        batch([
          { method: 'GET', url: '/items?n=5000', name: 'a' },
          { method: 'POST', url: '/echo', body: { x: Array(300).fill('{result=a:$..id}') } },
        ]),
      ],
    ],
    [
      '300 x $..id over 900 items (just under maxReferenceMatches, near maxRenderedBytes)',
      [
        batch([
          { method: 'GET', url: '/items?n=900', name: 'a' },
          { method: 'POST', url: '/echo', body: { x: Array(300).fill('{result=a:$..id}') } },
        ]),
      ],
    ],
    [
      'sample-like: GET of 50 items as $..* in 49 bodies, 10 each',
      [
        batch([
          { method: 'GET', url: '/items?n=50', name: 'list' },
          ...many(49, () => ({
            method: 'POST',
            url: '/echo',
            body: { title: Array(10).fill('{result=list:$..*}') },
          })),
        ]),
      ],
    ],
    [
      '49 distinct descendant walks matching nothing over 50000 items (1.9 MB)',
      [
        batch([
          { method: 'GET', url: '/items?n=50000', name: 'a' },
          ...many(49, (i) => ({
            method: 'POST',
            url: '/echo',
            body: { x: `{result=a:$..nothing${i}}` },
          })),
        ]),
      ],
    ],
    [
      '2000 references over 100k nodes (refused: maxReferences)',
      [
        batch([
          { method: 'GET', url: '/items?n=33000', name: 'a' },
          ...many(20, () => ({
            method: 'POST',
            url: '/echo',
            body: { x: Array(100).fill('{result=a:$..*}') },
          })),
        ]),
      ],
    ],
    [
      'header-heavy: 49 operations, 4 headers each filled with 16 kB by references',
      [
        batch([
          { method: 'GET', url: '/text?bytes=8000', name: 't' },
          ...many(49, () => ({
            method: 'POST',
            url: '/echo',
            headers: Object.fromEntries(
              many(4, (h) => [`x-fill-${h}`, '{result=t:$.text}{result=t:$.text}']),
            ),
          })),
        ]),
      ],
    ],
    [
      'a 4.4 MB response referenced as $..* and $..id (its JSON.parse included)',
      [
        batch([
          { method: 'GET', url: '/items?n=100000', name: 'a' },
          { method: 'POST', url: '/echo', body: { x: '{result=a:$..*}' } },
          { method: 'POST', url: '/echo', body: { x: '{result=a:$..id}' } },
          { method: 'POST', url: '/echo', body: { x: '{result=a:$..nothing}' } },
        ]),
      ],
    ],
    [
      'control (no reference): the 1.9 MB response of scenario 4 alone',
      [batch([{ method: 'GET', url: '/items?n=50000' }])],
    ],
    [
      'control (no reference): the 4.4 MB response of scenario 7 alone',
      [batch([{ method: 'GET', url: '/items?n=100000' }])],
    ],
    [
      'decoded bodies: 50 x GET /gz?mb=4 with accept-encoding gzip (4 MiB of NUL typed JSON)',
      [
        batch(
          many(50, () => ({
            method: 'GET',
            url: '/gz?mb=4',
            headers: { 'accept-encoding': 'gzip' },
          })),
        ),
      ],
    ],
    [
      'brotli bomb: 50 x GET /br with accept-encoding br (256 MiB each decoded)',
      [
        batch(
          many(50, () => ({ method: 'GET', url: '/br', headers: { 'accept-encoding': 'br' } })),
        ),
      ],
    ],
    [
      'a reference whose JSONPath is 960 kB of slices (refused: maxReferencePathLength)',
      [
        batch([
          { method: 'GET', url: '/items?n=10', name: 'a' },
          {
            method: 'POST',
            url: '/echo',
            body: { x: `{result=a:$[${Array(320_000).fill('::').join(',')}]}` },
          },
        ]),
      ],
    ],
  ];
}

function call(port, method, path, body, timeoutMs = 30_000) {
  return new Promise((resolve) => {
    const start = performance.now();
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        headers: body ? { 'content-type': 'application/json' } : {},
        timeout: timeoutMs,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode, text, ms: performance.now() - start }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (error) =>
      resolve({ status: 0, text: String(error), ms: performance.now() - start }),
    );
    req.end(body);
  });
}

async function start(port, platform) {
  const child = spawn(
    process.execPath,
    [
      '--min-semi-space-size=16',
      // e.g. HOSTILE_APP_FLAGS='--cpu-prof --cpu-prof-dir=prof/h' profiles the app under attack.
      ...(process.env.HOSTILE_APP_FLAGS?.split(' ').filter(Boolean) ?? []),
      new URL(import.meta.url).pathname,
      'serve',
      String(port),
      platform,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], env: process.env },
  );
  await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the app exited with ${code}`)));
    child.stdout.on('data', (chunk) => {
      if (String(chunk).includes('listening')) resolve();
    });
  });
  return child;
}

async function attack() {
  const seconds = Number(option('seconds', 6));
  const platform = option('platform', 'express');
  const clients = Number(option('clients', 2));
  const only = option('only', undefined)?.split(',').map(Number);
  const rows = [];
  for (const [index, [name, bodies]] of scenarios().entries()) {
    if (only && !only.includes(index)) continue;
    // A fresh app per scenario: its RSS and event loop are this scenario's alone.
    const port = await freePort();
    const app = await start(port, platform);
    try {
      // Warm up the routes and the JIT, so the scenario is not charged for it.
      for (let i = 0; i < 20; i++) await call(port, 'GET', '/items?n=1000');
      await call(port, 'POST', '/stats/reset');
      const before = JSON.parse((await call(port, 'GET', '/stats')).text);
      const until = Date.now() + seconds * 1000;
      let batches = 0;
      let slowest = 0;
      const statuses = {};
      const entryCodes = {};
      const attacker = async () => {
        for (let i = 0; Date.now() < until; i++) {
          const reply = await call(port, 'POST', '/batch', bodies[i % bodies.length]);
          batches++;
          slowest = Math.max(slowest, reply.ms);
          statuses[reply.status] = (statuses[reply.status] ?? 0) + 1;
          if (reply.status === 200) {
            for (const entry of JSON.parse(reply.text).data) {
              const code = entry?.code ?? 'null';
              entryCodes[code] = (entryCodes[code] ?? 0) + 1;
            }
          }
        }
      };
      // A direct client: what a request of its own waits while the batches run.
      let direct = 0;
      const bystander = async () => {
        while (Date.now() < until) {
          direct = Math.max(direct, (await call(port, 'GET', '/stats')).ms);
          await sleep(20);
        }
      };
      await Promise.all([...Array.from({ length: clients }, attacker), bystander()]);
      const after = JSON.parse((await call(port, 'GET', '/stats')).text);
      rows.push({
        scenario: `${index}: ${name}`,
        batches,
        statuses,
        entryCodes,
        worstBlockMs: +after.eventLoopDelayMaxMs.toFixed(1),
        p99BlockMs: +after.eventLoopDelayP99Ms.toFixed(1),
        worstGcPauseMs: +after.gcMaxMs.toFixed(1),
        slowestBatchMs: Math.round(slowest),
        directClientMaxMs: Math.round(direct),
        rssGrowthMiB: +((after.rss - before.rss) / 1024 / 1024).toFixed(1),
        rssMiB: +(after.rss / 1024 / 1024).toFixed(1),
      });
      process.stderr.write(`done: ${name}\n`);
    } finally {
      app.kill('SIGTERM');
    }
  }
  const worst = Math.max(...rows.map((row) => row.worstBlockMs));
  console.log(JSON.stringify({ platform, seconds, clients, rows }, null, 2));
  console.log(
    `${worst < 100 ? 'PASS' : 'FAIL'}  worst event-loop block ${worst} ms (target < 100 ms)`,
  );
}
