import { OperationSocket } from './operation.socket.js';
import type { ConnectionInfo } from './parent.context.js';

/** An operation's socket on a loopback batch connection, with what `more` adds to it. */
function socket(more: Partial<ConnectionInfo> = {}): OperationSocket {
  return new OperationSocket({
    remoteAddress: '127.0.0.1',
    remoteFamily: 'IPv4',
    remotePort: 40000,
    localAddress: '127.0.0.1',
    localPort: 3000,
    encrypted: false,
    ...more,
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('OperationSocket', () => {
  describe('its idle timer, as a real connection has', () => {
    it("says its timeout, as net.Socket's `timeout` does", () => {
      const connection = socket();
      expect(connection.timeout).toBeUndefined();
      connection.setTimeout(1000);
      expect(connection.timeout).toBe(1000);
      connection.setTimeout(0);
      expect(connection.timeout).toBe(0);
      connection.destroy();
    });

    it('arms the server timeout it is given, and is dropped when nobody listens', async () => {
      const connection = socket({ idleTimeout: 30 });
      expect(connection.timeout).toBe(30);
      // Its own listeners run after the server's handling, as Node's listener comes first.
      let destroyedWhenTold: boolean | undefined;
      connection.on('timeout', () => (destroyedWhenTold = connection.destroyed));
      await sleep(80);
      expect(destroyedWhenTold).toBe(true);
    });

    it('tells the server only as an HTTP/1 server is told', async () => {
      const told: string[] = [];
      const server = { emit: (event: string) => told.push(event) > 0 };
      const base = { server: server as never, idleTimeout: 30 };
      const http1 = socket({ ...base, serverHearsTimeouts: true });
      // An HTTP/2 server's 'timeout' listeners take a session: it is not told.
      const http2 = socket({ ...base, serverHearsTimeouts: false });
      await sleep(80);
      expect(told).toEqual(['timeout']);
      expect(http1.destroyed).toBe(false);
      expect(http2.destroyed).toBe(true);
      http1.destroy();
    });

    it('fires again after a write, once it fired with someone listening', async () => {
      const connection = socket();
      let told = 0;
      connection.setTimeout(30, () => told++);
      // A listener on the response or the server keeps the connection: here, the server.
      Object.assign(connection, { server: { emit: () => true }, serverHearsTimeouts: true });
      await sleep(60);
      connection.write('.');
      await sleep(60);
      expect(told).toBe(1);
      // `setTimeout`'s callback is once; the socket's 'timeout' event goes on.
      let events = 0;
      connection.on('timeout', () => events++);
      connection.write('.');
      await sleep(60);
      expect(events).toBe(1);
      expect(connection.destroyed).toBe(false);
      connection.destroy();
    });

    it('counts no write held by a cork as activity', async () => {
      const connection = socket();
      let events = 0;
      connection.on('timeout', () => events++);
      Object.assign(connection, { server: { emit: () => true }, serverHearsTimeouts: true });
      connection.setTimeout(40);
      connection.cork();
      for (let i = 0; i < 4; i++) {
        connection.write('.');
        await sleep(15);
      }
      expect(events).toBe(1);
      expect(connection.flushedWrites).toBe(0);
      connection.uncork();
      expect(connection.flushedWrites).toBe(4);
      connection.destroy();
    });
  });
});
