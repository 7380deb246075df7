// node bench/global-cap.mjs [--cap 0] [--ms 200] [--batches 200]
//
// Issue 15, item 10: what a direct client waits while many batches of slow operations run.
// A Nest server (Express, its own process) serves GET /item and GET /slow (waits --ms, then
// answers); this process posts --batches concurrent batches of 50 GET /slow operations and, while
// they hold, sends plain GET /item requests one after another, timing each. --cap sets
// globalConcurrency (0: no cap). Prints the direct GET latencies, the peak of slow operations in
// flight (the server counts them) and how long the batches took.
// Wrap runs in `flock /tmp/bench.lock` on a shared machine; a run takes well under 2 minutes.
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freePort } from '../scripts/free-port.mjs';

const option = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return Number(at > 0 ? process.argv[at + 1] : fallback);
};

if (process.argv[2] === 'serve') {
  const [port, cap, ms] = process.argv.slice(3).map(Number);
  await import('reflect-metadata');
  const { Controller, Get, Module } = await import('@nestjs/common');
  const { NestFactory } = await import('@nestjs/core');
  const { BatchModule } = await import('nestjs-batch');
  let inFlight = 0;
  let peak = 0;
  class SlowController {
    async slow() {
      peak = Math.max(peak, ++inFlight);
      await sleep(ms);
      inFlight--;
      return { ok: true };
    }
    item() {
      return { id: 42 };
    }
    peak() {
      const seen = peak;
      peak = 0;
      return { peak: seen };
    }
  }
  for (const name of ['slow', 'item', 'peak']) {
    const descriptor = Object.getOwnPropertyDescriptor(SlowController.prototype, name);
    Get(name)(SlowController.prototype, name, descriptor);
  }
  Controller()(SlowController);
  class CapModule {}
  Module({
    imports: [BatchModule.forRoot({ globalConcurrency: cap, timeout: 60_000 })],
    controllers: [SlowController],
  })(CapModule);
  const app = await NestFactory.create(CapModule, { logger: false });
  await app.listen(port, '127.0.0.1');
  process.stdout.write('listening\n');
} else {
  const CAP = option('cap', 0);
  const MS = option('ms', 200);
  const BATCHES = option('batches', 200);
  const port = await freePort();
  const server = spawn(
    process.execPath,
    [...process.execArgv, fileURLToPath(import.meta.url), 'serve', port, CAP, MS],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise((resolve) => server.stdout.once('data', resolve));
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
  const call = (method, path, body) =>
    new Promise((resolve, reject) => {
      const started = performance.now();
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method,
          path,
          agent,
          headers: { 'content-type': 'application/json' },
        },
        (response) => {
          let text = '';
          response.on('data', (chunk) => (text += chunk));
          response.on('end', () => resolve({ ms: performance.now() - started, text }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  await call('GET', '/item');
  const batch = JSON.stringify({
    data: Array.from({ length: 50 }, () => ({ method: 'GET', url: '/slow' })),
  });
  const started = performance.now();
  let running = BATCHES;
  const batches = Array.from({ length: BATCHES }, () =>
    call('POST', '/batch', batch).finally(() => running--),
  );
  const latencies = [];
  await sleep(50);
  while (running > 0) {
    latencies.push((await call('GET', '/item')).ms);
    await sleep(20);
  }
  const replies = await Promise.all(batches);
  const took = performance.now() - started;
  const ok = replies.every((reply) =>
    JSON.parse(reply.text).data.every((entry) => entry?.code === 200),
  );
  const { peak } = JSON.parse((await call('GET', '/peak')).text);
  latencies.sort((a, b) => a - b);
  const at = (q) =>
    Number(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))].toFixed(1));
  process.stdout.write(
    `${JSON.stringify({
      globalConcurrency: CAP,
      batches: BATCHES,
      operationMs: MS,
      batchesMs: Math.round(took),
      allEntries200: ok,
      peakSlowInFlight: peak,
      directGets: latencies.length,
      directGetMs: { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: at(1) },
    })}\n`,
  );
  agent.destroy();
  server.kill();
}
