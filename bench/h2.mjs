// The HTTP/2 comparison of `npm run bench`: what a client that does not batch would do instead.
// Scenarios (independent 50 GETs, chains of 5 and 10, create-read-update-list, 1 then 20 that
// depend on it) run by four clients, each through a TCP proxy that delays every chunk and counts
// the bytes both ways:
//   sequential  one HTTP/1.1 keep-alive connection, one request at a time
//   six         six HTTP/1.1 keep-alive connections, as a browser opens per origin
//   http2       one HTTP/2 session (node:http2), every request that can go in parallel at once,
//               to the bench app on Fastify over HTTP/2 cleartext
//   batch       one POST /batch over one HTTP/1.1 connection, references for what depends
//   pipelined   nestjs-batch/client's `client.fetch` (global fetch underneath), the work written
//               as ordinary calls with no explicit batch: a pending call's `ref()` for what depends
// Connections are opened and warmed before the clock starts (HPACK tables warm too), so the
// figures compare round trips and bytes, not handshakes.
import { Buffer } from 'node:buffer';
import http2 from 'node:http2';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { Agent, request } from 'node:http';
import { connect, createServer } from 'node:net';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { URL } from 'node:url';
import { BatchClient } from '../dist/client/index.js';

// The fetch API's classes, global in Node 20 (no module exports them).
const { Headers, Request, Response } = globalThis;

/** The body's bytes, decoded from the content coding the server chose. */
function decode(chunks, coding) {
  const bytes = Buffer.concat(chunks);
  return coding === 'gzip'
    ? gunzipSync(bytes)
    : coding === 'br'
      ? brotliDecompressSync(bytes)
      : bytes;
}

/** The body as JSON, decoded from the content coding the server chose. */
function parse(chunks, coding) {
  return JSON.parse(decode(chunks, coding).toString('utf8'));
}

/** Headers every client sends on every request, as a real API client does. */
const CLIENT_HEADERS = {
  accept: 'application/json',
  'accept-encoding': 'gzip, br',
  'user-agent': 'bench-client/1.0 (node)',
  authorization: 'Bearer 8c6f0d7a5e2b4f1c9a3d7e6b5c4a3f2e1d0c9b8a',
};

/** A TCP proxy that holds every chunk `delay` ms in each direction, counting bytes. */
export async function countingProxy(target, delay) {
  const bytes = { up: 0, down: 0 };
  const sockets = new Set();
  const server = createServer((client) => {
    const upstream = connect(target, '127.0.0.1');
    sockets.add(client).add(upstream);
    const relay = (from, to, direction) =>
      from.on('data', (chunk) => {
        bytes[direction] += chunk.length;
        setTimeout(() => to.writable && to.write(chunk), delay);
      });
    relay(client, upstream, 'up');
    relay(upstream, client, 'down');
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const close = () => (client.destroy(), upstream.destroy());
    client.on('close', close).on('error', close);
    upstream.on('close', close).on('error', close);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    bytes,
    reset: () => ((bytes.up = 0), (bytes.down = 0)),
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

/** An HTTP/1.1 client over `agent`: `send(method, path, body)` resolves with the parsed body. */
function http1Client(port, agent) {
  return (method, path, body) =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method,
          path,
          agent,
          headers: {
            ...CLIENT_HEADERS,
            ...(payload ? { 'content-type': 'application/json' } : {}),
          },
        },
        (res) => {
          const chunks = [];
          res
            .on('data', (chunk) => chunks.push(chunk))
            .on('end', () => resolve(parse(chunks, res.headers['content-encoding'])));
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
}

/**
 * A fetch over node:http and `agent`: the transport the batch client above uses, so that the
 * pipelined client's figures differ from its by what the client does, not by undici's.
 */
function http1Fetch(agent) {
  return (input, init) =>
    new Promise((resolve, reject) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          method: init?.method ?? 'GET',
          path: url.pathname + url.search,
          agent,
          headers: Object.fromEntries(new Headers(init?.headers)),
        },
        (res) => {
          const chunks = [];
          res
            .on('data', (chunk) => chunks.push(chunk))
            .on('end', () => {
              const headers = new Headers();
              for (const [name, value] of Object.entries(res.headers)) {
                if (name !== 'content-encoding') headers.set(name, String(value));
              }
              const body = decode(chunks, res.headers['content-encoding']);
              resolve(new Response(body, { status: res.statusCode, headers }));
            });
        },
      );
      req.on('error', reject);
      req.end(init?.body);
    });
}

/** An HTTP/2 client on one session. */
function http2Client(session) {
  return (method, path, body) =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const stream = session.request({
        ':method': method,
        ':path': path,
        ...CLIENT_HEADERS,
        ...(payload ? { 'content-type': 'application/json' } : {}),
      });
      const chunks = [];
      let coding;
      stream.on('response', (headers) => (coding = headers['content-encoding']));
      stream.on('data', (chunk) => chunks.push(chunk));
      stream.on('end', () => resolve(parse(chunks, coding)));
      stream.on('error', reject);
      stream.end(payload);
    });
}

/** A body a `client.fetch` call sends as JSON, as the clients above do. */
const jsonInit = (method, body) => ({
  method,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

/** Every Response read to its end, as the other clients read theirs, and checked. */
async function readAll(responses) {
  for (const response of await Promise.all(responses)) {
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`pipelined: ${response.url} answered ${response.status}`);
  }
}

/**
 * The scenarios: `direct(send)` runs it as requests (in parallel where they are independent),
 * `batch` is the same work as one native batch, `pipelined(client)` the same work as ordinary
 * `client.fetch` calls.
 */
const chainOf = (length) => ({
  direct: async (send) => {
    let previous = await send('GET', '/item');
    for (let i = 1; i < length; i++) previous = await send('GET', `/item?after=${previous.id}`);
  },
  pipelined: (client) => {
    const calls = [client.fetch('/item')];
    for (let i = 1; i < length; i++)
      calls.push(client.fetch(`/item?after=${calls[i - 1].ref('$.id')}`));
    return readAll(calls);
  },
  batch: Array.from({ length }, (_, i) =>
    i === 0
      ? { method: 'GET', url: '/item', name: 'op0' }
      : { method: 'GET', url: `/item?after={result=op${i - 1}:$.id}`, name: `op${i}` },
  ),
});
export const SCENARIOS = {
  'independent 50': {
    direct: (send) => Promise.all(Array.from({ length: 50 }, () => send('GET', '/item'))),
    batch: Array.from({ length: 50 }, () => ({ method: 'GET', url: '/item' })),
    pipelined: (client) => readAll(Array.from({ length: 50 }, () => client.fetch('/item'))),
  },
  'chain 5': chainOf(5),
  'chain 10': chainOf(10),
  'create-read-update-list': {
    direct: async (send) => {
      const created = await send('POST', '/items', { name: 'bench', qty: 1 });
      await send('GET', `/items/${created.id}`);
      await send('PATCH', `/items/${created.id}`, { qty: 2 });
      await send('GET', '/items');
    },
    pipelined: (client) => {
      const created = client.fetch('/items', jsonInit('POST', { name: 'bench', qty: 1 }));
      const read = client.fetch(`/items/${created.ref('$.id')}`);
      // Ordered as the explicit batch is: the update after the read, the list after the update.
      const updated = client.fetch(`/items/${created.ref('$.id')}`, {
        ...jsonInit('PATCH', { qty: 2 }),
        headers: { 'content-type': 'application/json', 'x-after': read.status() },
      });
      const listed = client.fetch('/items', { headers: { 'x-after': updated.status() } });
      return readAll([created, read, updated, listed]);
    },
    batch: [
      { method: 'POST', url: '/items', body: { name: 'bench', qty: 1 }, name: 'create' },
      { method: 'GET', url: '/items/{result=create:$.id}', name: 'read' },
      {
        method: 'PATCH',
        url: '/items/{result=create:$.id}',
        body: { qty: 2 },
        name: 'update',
        dependsOn: ['read'],
      },
      { method: 'GET', url: '/items', dependsOn: ['update'] },
    ],
  },
  '1 + 20 dependent': {
    direct: async (send) => {
      const first = await send('GET', '/item');
      await Promise.all(Array.from({ length: 20 }, () => send('GET', `/item?after=${first.id}`)));
    },
    pipelined: (client) => {
      const first = client.fetch('/item');
      const id = first.ref('$.id');
      return readAll([
        first,
        ...Array.from({ length: 20 }, () => client.fetch(`/item?after=${id}`)),
      ]);
    },
    batch: [
      { method: 'GET', url: '/item', name: 'first' },
      ...Array.from({ length: 20 }, () => ({
        method: 'GET',
        url: '/item?after={result=first:$.id}',
      })),
    ],
  },
};
export const CLIENTS = ['sequential', 'six', 'http2', 'batch', 'pipelined'];
const ALL_CLIENTS = CLIENTS;

/**
 * Runs every scenario with every client through proxies of `rttMs`, `repeats` times each, in
 * alternating order; resolves with { [scenario]: { [client]: { wallMs, walls, bytes } } }.
 * `h1Port` serves HTTP/1.1, `h2Port` the same app over h2c.
 */
export async function compareWithHttp2({
  h1Port,
  h2Port,
  rttMs,
  repeats,
  scenarios,
  clients: CLIENTS = ALL_CLIENTS,
}) {
  const delay = rttMs / 2;
  const results = {};
  for (const name of scenarios) {
    const scenario = SCENARIOS[name];
    const walls = Object.fromEntries(CLIENTS.map((client) => [client, []]));
    const bytes = Object.fromEntries(CLIENTS.map((client) => [client, []]));
    for (let repeat = 0; repeat < repeats; repeat++) {
      const order = repeat % 2 === 0 ? CLIENTS : [...CLIENTS].reverse();
      for (const client of order) {
        const proxy = await countingProxy(client === 'http2' ? h2Port : h1Port, delay);
        const { send, close, batching } = await open(client, proxy.port);
        try {
          // Warm: the connections are open and the HPACK tables hold the client's headers.
          await (client === 'pipelined'
            ? readAll([batching.fetch('/item')])
            : client === 'batch'
              ? send('POST', '/batch', { data: [{ method: 'GET', url: '/item' }] })
              : Promise.all(
                  Array.from({ length: client === 'six' ? 6 : 1 }, () => send('GET', '/item')),
                ));
          proxy.reset();
          const started = performance.now();
          if (client === 'pipelined') {
            await scenario.pipelined(batching);
          } else if (client === 'batch') {
            const reply = await send('POST', '/batch', { data: scenario.batch });
            const failed = reply.data.filter((entry) => entry === null || entry.code >= 300);
            if (failed.length > 0) throw new Error(`${name}: batch entries failed`);
          } else {
            await scenario.direct(send);
          }
          walls[client].push(performance.now() - started);
          // Bytes in flight land after the response is read: let the proxy relay the tail.
          await new Promise((resolve) => setTimeout(resolve, delay + 5));
          bytes[client].push(proxy.bytes.up + proxy.bytes.down);
        } finally {
          close();
          proxy.close();
        }
      }
    }
    results[name] = Object.fromEntries(
      CLIENTS.map((client) => [
        client,
        {
          wallMs: +median(walls[client]).toFixed(1),
          walls: walls[client].map((w) => +w.toFixed(1)),
          bytes: median(bytes[client]),
        },
      ]),
    );
  }
  return results;
}

async function open(client, port) {
  if (client === 'http2') {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    await new Promise((resolve, reject) => session.once('connect', resolve).once('error', reject));
    return { send: http2Client(session), close: () => session.close() };
  }
  const agent = new Agent({ keepAlive: true, maxSockets: client === 'six' ? 6 : 1 });
  if (client === 'pipelined') {
    const batching = new BatchClient({
      endpoint: `http://127.0.0.1:${port}/batch`,
      headers: CLIENT_HEADERS,
      fetch: http1Fetch(agent),
    });
    return { batching, close: () => agent.destroy() };
  }
  return { send: http1Client(port, agent), close: () => agent.destroy() };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/**
 * Run alone, the comparison of some scenarios and clients side by side, without the rest of the
 * bench: `node --min-semi-space-size=16 bench/h2.mjs [--rtt 50] [--repeats 5]
 * [--scenarios 'create-read-update-list,chain 5'] [--clients http2,batch,pipelined]`.
 * Servers as `npm run bench` starts them (Fastify, responses compressed), warmed first.
 */
async function main() {
  const { spawn } = await import('node:child_process');
  const { freePort } = await import('../scripts/free-port.mjs');
  const option = (name, fallback) => {
    const at = process.argv.indexOf(`--${name}`);
    return at > 0 ? process.argv[at + 1] : fallback;
  };
  const start = async (platform) => {
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [...process.execArgv, 'bench/server.mjs', 'nest', String(port), platform],
      { stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, BENCH_COMPRESS: '1' } },
    );
    await new Promise((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
      child.stdout.on('data', (chunk) => String(chunk).includes('listening') && resolve());
    });
    return { port, stop: () => child.kill('SIGTERM') };
  };
  const scenarios = option('scenarios', 'create-read-update-list').split(',');
  const clients = option('clients', 'http2,batch,pipelined').split(',');
  const [h1, h2] = [await start('fastify'), await start('fastify-h2')];
  try {
    const run = { h1Port: h1.port, h2Port: h2.port, scenarios, clients };
    await compareWithHttp2({ ...run, rttMs: 2, repeats: 3 }); // warm-up: JIT, both servers
    const results = await compareWithHttp2({
      ...run,
      rttMs: Number(option('rtt', 50)),
      repeats: Number(option('repeats', 5)),
    });
    for (const [name, byClient] of Object.entries(results)) {
      console.log(name);
      for (const [client, { wallMs, walls, bytes }] of Object.entries(byClient)) {
        // Also repeat by repeat, where the clients ran side by side: less drift of a shared machine.
        const ratios = byClient.http2?.walls.map((wall, i) => wall / walls[i]);
        const vsHttp2 = ratios
          ? ` http2/${client} ${(byClient.http2.wallMs / wallMs).toFixed(2)}x (per repeat: median ${median(ratios).toFixed(2)}x, ${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)})`
          : '';
        console.log(
          `  ${client.padEnd(10)} ${wallMs} ms (${walls.join(' ')}) ${bytes} B${vsHttp2}`,
        );
      }
    }
  } finally {
    h1.stop();
    h2.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
