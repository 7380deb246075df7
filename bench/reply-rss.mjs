// node bench/reply-rss.mjs [defaults|off] [--seconds 40]
//
// Issue 15, item 5: clients that send a batch of big responses and never read the reply. Starts a
// Nest app (Express) with GET /big/:bytes, opens 4 raw connections that each post 50 operations of
// 5,000,000 bytes and then never read a byte, and samples the process's RSS every 100 ms.
//   defaults: maxReplyBytes and replyWriteTimeout as shipped (16 MiB, 30 s)
//   off:      both effectively off (the behaviour before they existed)
// Prints peak RSS, RSS at a few points, and when the server let go of the connections.
// Wrap runs in `flock /tmp/bench.lock` on a shared machine.
import 'reflect-metadata';
import { Controller, Get, Module, Param, ParseIntPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { BatchModule } from 'nestjs-batch';
import { connect } from 'node:net';
import { Buffer } from 'node:buffer';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';

const variant = process.argv[2] ?? 'defaults';
const at = process.argv.indexOf('--seconds');
const SECONDS = Number(at > 0 ? process.argv[at + 1] : 40);
const CLIENTS = 4;
const OPS = 50;
const BYTES = 5_000_000;

class BigController {
  big(bytes) {
    return 'x'.repeat(bytes);
  }
}
Get('big/:bytes')(
  BigController.prototype,
  'big',
  Object.getOwnPropertyDescriptor(BigController.prototype, 'big'),
);
Param('bytes', ParseIntPipe)(BigController.prototype, 'big', 0);
Controller()(BigController);

const options =
  variant === 'off'
    ? { limit: OPS, maxReplyBytes: Number.MAX_SAFE_INTEGER, replyWriteTimeout: 0 }
    : { limit: OPS };
class RssModule {}
Module({ imports: [BatchModule.forRoot(options)], controllers: [BigController] })(RssModule);

const app = await NestFactory.create(RssModule, { logger: false });
await app.listen(0, '127.0.0.1');
const server = app.getHttpServer();
const { port } = server.address();
const mb = (bytes) => Math.round(bytes / 1024 / 1024);

const body = JSON.stringify({
  data: Array.from({ length: OPS }, () => ({ method: 'GET', url: `/big/${BYTES}` })),
});
const request =
  `POST /batch HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncontent-type: application/json\r\n` +
  `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

const start = Date.now();
const baseline = process.memoryUsage().rss;
const sockets = Array.from({ length: CLIENTS }, () => {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  socket.pause(); // never reads a byte of the reply
  socket.write(request);
  return socket;
});

const connections = () => new Promise((resolve) => server.getConnections((_e, n) => resolve(n)));
let peak = baseline;
let releasedAt;
const marks = new Map();
while (Date.now() - start < SECONDS * 1000) {
  await sleep(100);
  const rss = process.memoryUsage().rss;
  peak = Math.max(peak, rss);
  const seconds = Math.floor((Date.now() - start) / 1000);
  if ([1, 5, 10, 20, 29, 32, 35, 39].includes(seconds) && !marks.has(seconds))
    marks.set(seconds, mb(rss));
  if (releasedAt === undefined && Date.now() - start > 1000 && (await connections()) === 0) {
    releasedAt = Date.now() - start;
  }
}
process.stdout.write(
  `${JSON.stringify({
    variant,
    clients: CLIENTS,
    replyPerClientMB: mb(OPS * BYTES),
    baselineMB: mb(baseline),
    peakMB: mb(peak),
    rssMBAtSecond: Object.fromEntries(marks),
    connectionsReleasedAtMs: releasedAt ?? null,
  })}\n`,
);
for (const socket of sockets) socket.destroy();
server.closeAllConnections();
await app.close();
process.exit(0);
