import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { exposeWireBody, stashWireBody } from './wire-body.stash.js';

function requestWith(contentType: string | undefined, body: string): IncomingMessage {
  const request = new IncomingMessage(new Socket());
  if (contentType !== undefined) request.headers['content-type'] = contentType;
  stashWireBody(request, Buffer.from(body));
  return request;
}

function bodyOf(contentType: string | undefined, body: string): unknown {
  const request = requestWith(contentType, body);
  const target: { raw: IncomingMessage; body?: unknown } = { raw: request };
  exposeWireBody(target, request);
  return target.body;
}

// V8's own answer to "are this object's properties still in fast mode": code that reads a
// request (the framework's, the app's, the library's) slows down once one is a dictionary.
setFlagsFromString('--allow-natives-syntax');
// eslint-disable-next-line @typescript-eslint/no-implied-eval -- V8's intrinsics parse only in code compiled after the flag
const hasFastProperties = new Function('o', 'return %HasFastProperties(o)') as (
  o: object,
) => boolean;

describe('exposeWireBody', () => {
  it('gives every request the same accessors, so Express requests stay in fast mode', () => {
    // Accessors made per request gave each request a hidden class of its own: from the second
    // on, V8 made Express's requests dictionaries.
    const requests = [1, 2, 3].map(() => {
      const request: IncomingMessage & { body?: unknown } = requestWith(
        'application/json',
        '{"a":1}',
      );
      exposeWireBody(request, request);
      return request;
    });
    expect(requests.map(hasFastProperties)).toEqual([true, true, true]);
    expect(requests.map((request) => request.body)).toEqual([{ a: 1 }, { a: 1 }, { a: 1 }]);
    // Fastify's request has `body` of its own already: it gets the same accessors.
    const [first, second] = [1, 2].map(() => {
      const raw = requestWith('application/json', '{"b":2}');
      const fastify = { raw, body: undefined };
      exposeWireBody(fastify, raw);
      expect(fastify.body).toEqual({ b: 2 });
      return Object.getOwnPropertyDescriptor(fastify, 'body');
    });
    expect(first?.get).toBe(second?.get);
    expect(first?.set).toBe(second?.set);
  });

  it("gives rawBody the bytes of a JSON or form body, as Nest's parsers with the option on", () => {
    const rawOf = (contentType: string, body: string): unknown => {
      const request = requestWith(contentType, body);
      const target: { raw: IncomingMessage; rawBody?: unknown } = { raw: request };
      exposeWireBody(target, request);
      return target.rawBody;
    };
    expect(rawOf('application/json; charset=utf-8', '{ "a" :1}')).toEqual(Buffer.from('{ "a" :1}'));
    expect(rawOf('application/x-www-form-urlencoded', 'batch=%5B%5D')).toEqual(
      Buffer.from('batch=%5B%5D'),
    );
    // Nest's parsers leave multipart/mixed alone: no rawBody either.
    expect(rawOf('multipart/mixed; boundary=b', '--b--')).toBeUndefined();
    // The app may set its own, as it may set `body`.
    const request = requestWith('application/json', '{}');
    const target: { raw: IncomingMessage; rawBody?: unknown } = { raw: request };
    exposeWireBody(target, request);
    target.rawBody = 'replaced';
    expect(target.rawBody).toBe('replaced');
  });

  it('gives JSON as JSON.parse does, whatever the parameters and case of the type', () => {
    expect(bodyOf('application/json', '{"data":[1]}')).toEqual({ data: [1] });
    expect(bodyOf('Application/JSON; charset=utf-8', '[true]')).toEqual([true]);
  });

  it('gives form fields flat, a key sent twice as an array, `__proto__` as an own field', () => {
    const fields = bodyOf(
      'application/x-www-form-urlencoded',
      'batch=%5B%5D&a=1&a=2&a=3&__proto__=x&include_headers=false',
    ) as Record<string, unknown>;
    expect(Object.keys(fields)).toEqual(['batch', 'a', '__proto__', 'include_headers']);
    expect(fields.batch).toBe('[]');
    expect(fields.a).toEqual(['1', '2', '3']);
    expect(fields.include_headers).toBe('false');
    expect(Object.getOwnPropertyDescriptor(fields, '__proto__')?.value).toBe('x');
    expect(Object.getPrototypeOf(fields)).toBe(Object.prototype);
  });

  it('stops at 1000 form fields, as body-parser refuses more', () => {
    // One repeated key 1000 times is kept whole, in order; past 1000 fields nothing is parsed,
    // so a 1 MiB body of `a=&a=&...` costs no more than the app's own parser would allow.
    const thousand = bodyOf('application/x-www-form-urlencoded', 'a=1&'.repeat(1000)) as {
      a: string[];
    };
    expect(thousand.a).toHaveLength(1000);
    expect(bodyOf('application/x-www-form-urlencoded', 'a=&'.repeat(1001))).toBeUndefined();
    expect(bodyOf('application/x-www-form-urlencoded', 'a=&'.repeat(300_000))).toBeUndefined();
  });

  it('leaves JSON with prototype keys undefined, as Fastify refuses it and the endpoint does', () => {
    expect(bodyOf('application/json', '{"__proto__":{"admin":true}}')).toBeUndefined();
    expect(bodyOf('application/json', '{"a":{"constructor":{"prototype":{}}}}')).toBeUndefined();
  });

  it('leaves types the app does not parse, and bodies that do not parse, undefined', () => {
    expect(bodyOf('multipart/mixed; boundary=b', '--b--')).toBeUndefined();
    expect(bodyOf('application/vnd.api+json', '{}')).toBeUndefined();
    expect(bodyOf(undefined, '{}')).toBeUndefined();
    expect(bodyOf('application/json', '{"data":')).toBeUndefined();
  });

  it('parses once, and lets the app replace the body', () => {
    const request = requestWith('application/json', '{"a":1}');
    const target: { raw: IncomingMessage; body?: unknown } = { raw: request };
    exposeWireBody(target, request);
    expect(target.body).toBe(target.body);
    target.body = { replaced: true };
    expect(target.body).toEqual({ replaced: true });
    expect(Object.getOwnPropertyDescriptor(target, 'body')?.writable).toBe(true);
  });

  it('does nothing for a request whose body the library did not read', () => {
    const target = { body: 'parsed by the app' };
    exposeWireBody(target, new IncomingMessage(new Socket()));
    expect(target.body).toBe('parsed by the app');
  });
});
