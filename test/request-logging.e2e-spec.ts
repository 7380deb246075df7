import { Controller, Get, Module, Req } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pinoHttp } from 'pino-http';
import { forEachPlatform } from './utils/platforms.js';
import { entries, postBatch, useTestApp } from './utils/test-app.js';

/** A line pino-http wrote for a finished request. */
interface LogLine {
  msg: string;
  req: { method: string; url: string; remoteAddress: string; remotePort: number };
  res: { statusCode: number };
}

/** Where one app's logger writes: each app gets its own, as pino ends it with the app. */
function logSink(): { sink: Writable; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line) lines.push(JSON.parse(line) as LogLine);
      }
      done();
    },
  });
  return { sink, lines };
}

/** The connection as code that reads the socket (loggers, audit trails, metrics) sees it. */
@Controller('conn')
class ConnectionController {
  @Get()
  connection(@Req() request: { raw?: IncomingMessage } & IncomingMessage): object {
    const { socket } = request.raw ?? request;
    return {
      remoteAddress: socket.remoteAddress,
      remotePort: socket.remotePort,
      remoteFamily: socket.remoteFamily,
      localAddress: socket.localAddress,
      localPort: socket.localPort,
    };
  }
}

@Module({ controllers: [ConnectionController] })
class ConnectionModule {}

forEachPlatform(() => {
  describe('the connection an operation arrives on, as request loggers read it (pino-http)', () => {
    const { sink, lines } = logSink();
    const logged = (url: string) => lines.filter((line) => line.req.url === url);
    const t = useTestApp({
      imports: [ConnectionModule],
      // pino-http itself, as nestjs-pino mounts it; nestjs-pino keeps one root logger per
      // process, which would log every app of this file to the first one's stream.
      configure: (app) => app.use(pinoHttp({ level: 'info' }, sink)),
    });
    it("logs an operation with the batch request's remote address and port, as a direct request is logged", async () => {
      await t.http.get('/conn').expect(200);
      const response = await postBatch(t, [{ method: 'GET', url: '/conn' }]).expect(200);
      const [entry] = entries(response);
      const { port } = t.app.getHttpServer().address() as AddressInfo;

      const [direct, operation] = logged('/conn');
      const [batch] = logged('/batch');
      expect(direct?.req.remotePort).toEqual(expect.any(Number));
      expect(batch?.req.remotePort).toEqual(expect.any(Number));
      // The operation's line is the direct one's in every field a logger reads from the socket.
      expect(operation?.req.remoteAddress).toBe(batch?.req.remoteAddress);
      expect(operation?.req.remotePort).toBe(batch?.req.remotePort);
      expect(entry?.body).toEqual({
        remoteAddress: batch?.req.remoteAddress,
        remotePort: batch?.req.remotePort,
        remoteFamily: 'IPv4',
        localAddress: '127.0.0.1',
        localPort: port,
      });
    });
  });
});
