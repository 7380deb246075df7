import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { OperationSocket } from './operation.socket.js';
import { captureResponse, sentHeader } from './response.capture.js';

/** A real response to a request of `method`, with no socket: what it writes stays in memory. */
function responseTo(method = 'GET'): ServerResponse {
  const request = new IncomingMessage(new Socket());
  request.method = method;
  return new ServerResponse(request);
}

function onOperationSocket(response: ServerResponse): ServerResponse {
  response.assignSocket(
    new OperationSocket({
      remoteAddress: '127.0.0.1',
      remoteFamily: 'IPv4',
      remotePort: 40000,
      localAddress: '127.0.0.1',
      localPort: 3000,
      encrypted: false,
    }) as never,
  );
  return response;
}

describe('captureResponse', () => {
  describe('tells once that the headers went out before the end', () => {
    it.each([
      ['a write', (response: ServerResponse) => response.write('first')],
      ['flushHeaders', (response: ServerResponse) => response.flushHeaders()],
    ])('after %s', (_, send) => {
      const response = responseTo();
      let calls = 0;
      const sent = (): void => {
        calls++;
      };
      captureResponse(response, 1024, sent);
      response.setHeader('Content-Type', 'text/event-stream');
      send(response);
      response.write('more');
      expect(calls).toBe(1);
    });

    it('not when they go out with the end: the answer is whole', () => {
      const response = responseTo();
      let calls = 0;
      const sent = (): void => {
        calls++;
      };
      captureResponse(response, 1024, sent);
      response.writeHead(200);
      response.end('all of it');
      expect(calls).toBe(0);
    });
  });

  it('records the status, the body in order whatever its chunk type, and the headers', () => {
    const response = responseTo();
    const capture = captureResponse(response, 1024);
    response.statusCode = 201;
    response.setHeader('Content-Type', 'text/plain');
    response.write('caf\u00e9 ');
    response.write(Buffer.from('and '));
    response.write('dGVh', 'base64');
    response.end(new Uint8Array([33]));
    const result = capture.result();
    expect(result.statusCode).toBe(201);
    expect(result.body.toString('utf8')).toBe('caf\u00e9 and tea!');
    expect(result.headers['content-type']).toBe('text/plain');
    expect(result.truncated).toBe(false);
  });

  it('gives a body written as one string as that string too, so it is not decoded back from bytes', () => {
    const response = responseTo();
    const capture = captureResponse(response, 1024);
    response.setHeader('Content-Type', 'application/json');
    response.end('{"caf\u00e9":1}');
    const result = capture.result();
    expect(result.text).toBe('{"caf\u00e9":1}');
    expect(result.body.toString('utf8')).toBe('{"caf\u00e9":1}');

    const several = responseTo();
    const two = captureResponse(several, 1024);
    several.write('{"a":');
    several.end('1}');
    expect(two.result().text).toBeUndefined();
    const encoded = responseTo();
    const base64 = captureResponse(encoded, 1024);
    encoded.end('dGVh', 'base64');
    expect(base64.result().text).toBeUndefined();
  });

  it.each([
    ['an object', { 'X-Head': 'from writeHead', 'Set-Cookie': 'a=1' }],
    [
      'pairs',
      [
        ['X-Head', 'from writeHead'],
        ['Set-Cookie', 'a=1'],
      ],
    ],
    ['a flat list', ['X-Head', 'from writeHead', 'Set-Cookie', 'a=1']],
  ])(
    'keeps headers given to writeHead as %s, lower-cased, set-cookie as an array',
    (_, headers) => {
      const response = responseTo();
      const capture = captureResponse(response, 1024);
      response.writeHead(200, headers as never);
      response.end();
      expect(capture.result().headers).toMatchObject({
        'x-head': 'from writeHead',
        'set-cookie': ['a=1'],
      });
    },
  );

  it('lets a header set on the response win over the one given to writeHead', () => {
    const response = responseTo();
    const capture = captureResponse(response, 1024);
    response.setHeader('x-both', 'set');
    response.writeHead(200, { 'x-both': 'head' });
    response.end();
    // Node merges writeHead's headers into the response's, the later one winning.
    expect(capture.result().headers['x-both']).toBe(response.getHeader('x-both'));
  });

  it('counts the headers it keeps as they go over the wire, a name replaced counted once', () => {
    const response = responseTo();
    const capture = captureResponse(response, 1024);
    response.setHeader('x-both', 'set');
    response.setHeader('set-cookie', ['a=1', 'b=2']);
    response.setHeader('connection', 'keep-alive');
    response.writeHead(200, { 'x-both': 'head', 'x-head': 'only' });
    response.end();
    const { headers, headerBytes } = capture.result();
    const wire = Object.entries(headers)
      .flatMap(([name, value]) => (Array.isArray(value) ? value : [value]).map((v) => [name, v]))
      .reduce((bytes, [name, value]) => bytes + `${name}: ${value}\r\n`.length, 0);
    expect(headerBytes).toBe(wire);
    expect(headerBytes).toBeGreaterThan(0);
  });

  it('joins repeated values, and drops hop-by-hop headers', () => {
    const response = responseTo();
    const capture = captureResponse(response, 1024);
    response.setHeader('vary', ['accept', 'origin']);
    response.setHeader('connection', 'keep-alive');
    response.setHeader('keep-alive', 'timeout=5');
    response.setHeader('transfer-encoding', 'chunked');
    response.end();
    const { headers } = capture.result();
    expect(headers.vary).toBe('accept, origin');
    expect(headers).not.toHaveProperty('connection');
    expect(headers).not.toHaveProperty('keep-alive');
    expect(headers).not.toHaveProperty('transfer-encoding');
  });

  it('stops recording past maxBytes and says the body was truncated', () => {
    const response = responseTo();
    const capture = captureResponse(response, 5);
    response.write('1234');
    response.write('5678');
    response.end('9');
    const result = capture.result();
    expect(result.truncated).toBe(true);
    expect(result.body.toString()).toBe('1234');
  });

  it.each([
    ['HEAD', 200],
    ['GET', 204],
    ['GET', 304],
  ])('gives no body for %s answered %i, whatever the handler wrote', (method, status) => {
    const response = responseTo(method);
    const capture = captureResponse(response, 2);
    response.statusCode = status;
    response.end('a body that would pass the cap');
    const result = capture.result();
    expect(result.body.length).toBe(0);
    expect(result.truncated).toBe(false);
  });

  it('gives the status of the header block, not one set after it went out', () => {
    const response = responseTo();
    const capture = captureResponse(response, 1024);
    response.writeHead(200, { 'content-type': 'text/plain' });
    response.write('partial;');
    response.statusCode = 500;
    response.end('error');
    expect(capture.status()).toBe(200);
    expect(capture.result()).toMatchObject({ statusCode: 200 });
    expect(capture.result().body.toString()).toBe('partial;error');
  });

  it('keeps no byte of a chunk Node refused, and goes on recording after one past the cap', () => {
    const response = responseTo();
    const capture = captureResponse(response, 4);
    // 20 bytes: past the cap, and not a chunk Node takes (ERR_INVALID_ARG_TYPE).
    expect(() => response.write(new Uint16Array(10) as unknown as Buffer)).toThrow();
    response.end('ok');
    expect(capture.result()).toMatchObject({ truncated: false });
    expect(capture.result().body.toString()).toBe('ok');
  });

  describe('headers held by the cork of a first write', () => {
    it('go out on the next tick, and are told then', async () => {
      const response = onOperationSocket(responseTo());
      let calls = 0;
      captureResponse(response, 1024, () => calls++);
      response.write('first');
      expect(sentHeader(response)).toBe(false);
      expect(calls).toBe(0);
      await new Promise((resolve) => process.nextTick(resolve));
      expect(sentHeader(response)).toBe(true);
      expect(calls).toBe(1);
    });

    it('never go out when the response is destroyed in the same tick', async () => {
      const response = onOperationSocket(responseTo());
      let calls = 0;
      captureResponse(response, 1024, () => calls++);
      response.write('first');
      response.destroy();
      await new Promise((resolve) => setImmediate(resolve));
      expect(sentHeader(response)).toBe(false);
      expect(calls).toBe(0);
    });

    it('go out when an app that corked the connection longer uncorks it, and are told then', async () => {
      const response = onOperationSocket(responseTo());
      let calls = 0;
      captureResponse(response, 1024, () => calls++);
      response.socket?.cork();
      response.write('first');
      await new Promise((resolve) => setImmediate(resolve));
      expect(sentHeader(response)).toBe(false);
      expect(calls).toBe(0);
      response.socket?.uncork();
      expect(sentHeader(response)).toBe(true);
      expect(calls).toBe(1);
    });

    it('go out with an end() in the same tick, which uncorks', () => {
      const response = onOperationSocket(responseTo());
      response.write('first');
      response.end('last');
      expect(sentHeader(response)).toBe(true);
    });
  });

  it('keeps what an end() Node refused had already sent', () => {
    // strictContentLength: Node writes the chunk, then throws on the length; a second end()
    // with the rest completes the answer a direct client reads whole.
    const response = onOperationSocket(responseTo());
    const capture = captureResponse(response, 1024);
    response.strictContentLength = true;
    response.setHeader('content-length', '10');
    expect(() => response.end('abc')).toThrow(/content-length/i);
    response.end('defghij');
    expect(capture.result().body.toString()).toBe('abcdefghij');
  });

  it('records nothing more once stopped', () => {
    const response = responseTo();
    const capture = captureResponse(response, 1024);
    response.write('kept ');
    capture.stop();
    response.end('dropped');
    expect(capture.result().body.toString()).toBe('kept ');
  });
});
