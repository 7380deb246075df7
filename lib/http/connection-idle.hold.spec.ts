import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { holdConnectionIdle } from './connection-idle.hold.js';

/** A batch request on a connection the server timed at `idle` ms, and its response. */
function batchOn(socket: Socket, httpVersionMajor = 1): [IncomingMessage, EventEmitter] {
  return [{ socket, httpVersionMajor } as unknown as IncomingMessage, new EventEmitter()];
}

function timedSocket(idle: number): Socket & { timeout?: number } {
  const socket = new Socket();
  socket.setTimeout(idle);
  return socket;
}

describe('holdConnectionIdle', () => {
  it('stops the timer while held, and arms it again when released', () => {
    const socket = timedSocket(400);
    const hold = holdConnectionIdle(...batchOn(socket));
    expect(socket.timeout).toBe(0);
    hold.release();
    expect(socket.timeout).toBe(400);
    hold.take();
    expect(socket.timeout).toBe(0);
    hold.close();
    hold.take();
    expect(socket.timeout).toBe(400);
    socket.destroy();
  });

  it('holds the timer for batches pipelined on the connection until the last lets go', () => {
    const socket = timedSocket(400);
    const first = holdConnectionIdle(...batchOn(socket));
    // Node arms the timer again for the next request the connection brings.
    socket.setTimeout(400);
    const second = holdConnectionIdle(...batchOn(socket));
    expect(socket.timeout).toBe(0);
    first.close();
    expect(socket.timeout).toBe(0);
    second.close();
    expect(socket.timeout).toBe(400);
    socket.destroy();
  });

  it('leaves a timer Node armed meanwhile (the keep-alive timer of a finished answer)', () => {
    const socket = timedSocket(400);
    const hold = holdConnectionIdle(...batchOn(socket));
    // An exception filter answered the batch while it ran; Node's resOnFinish armed this.
    socket.setTimeout(6000);
    hold.close();
    expect(socket.timeout).toBe(6000);
    socket.destroy();
  });

  it("lets go when the batch's response closes, whoever ended it", () => {
    const socket = timedSocket(400);
    const [request, response] = batchOn(socket);
    holdConnectionIdle(request, response);
    response.emit('close');
    expect(socket.timeout).toBe(400);
    socket.destroy();
  });

  it('leaves alone a connection without a timer, and HTTP/2', () => {
    const untimed = new Socket();
    holdConnectionIdle(...batchOn(untimed));
    expect((untimed as { timeout?: number }).timeout).toBeUndefined();
    const http2 = timedSocket(400);
    holdConnectionIdle(...batchOn(http2, 2));
    expect(http2.timeout).toBe(400);
    untimed.destroy();
    http2.destroy();
  });
});
