import { IncomingMessage, type IncomingHttpHeaders } from 'node:http';
import { Socket } from 'node:net';
import {
  corsCheckProblem,
  corsUnsafeHeaderNames,
  crossOriginOf,
  exposedHeaders,
  needsPreflight,
  preflightProblem,
  sentWithoutCredentials,
} from './cors.rules.js';

const PAGE = 'https://partner.example';
function requestWith(headers: IncomingHttpHeaders): IncomingMessage {
  const request = new IncomingMessage(new Socket());
  request.headers = headers;
  return request;
}

describe('crossOriginOf', () => {
  it('believes Sec-Fetch-Site when the browser sends it', () => {
    expect(crossOriginOf(requestWith({ origin: PAGE, 'sec-fetch-site': 'cross-site' }))).toBe(PAGE);
    expect(crossOriginOf(requestWith({ origin: PAGE, 'sec-fetch-site': 'same-site' }))).toBe(PAGE);
    for (const site of ['same-origin', 'none', ' Same-Origin ']) {
      expect(crossOriginOf(requestWith({ origin: PAGE, 'sec-fetch-site': site }))).toBeUndefined();
    }
  });

  it('without fetch metadata, compares the Origin with the Host header', () => {
    const own = { host: 'app.example', origin: 'https://app.example' };
    expect(crossOriginOf(requestWith(own))).toBeUndefined();
    expect(
      crossOriginOf(requestWith({ host: 'app.example:443', origin: 'https://app.example' })),
    ).toBeUndefined();
    expect(
      crossOriginOf(requestWith({ host: 'app.example:8443', origin: 'https://app.example' })),
    ).toBe('https://app.example');
    expect(crossOriginOf(requestWith({ host: 'app.example', origin: PAGE }))).toBe(PAGE);
    expect(crossOriginOf(requestWith({ host: 'app.example', origin: 'null' }))).toBe('null');
  });

  it('is undefined for a client that sends no Origin', () => {
    expect(crossOriginOf(requestWith({ 'sec-fetch-site': 'cross-site' }))).toBeUndefined();
  });
});

describe('corsUnsafeHeaderNames', () => {
  const batch = { 'user-agent': 'Browser/1' };

  it('names what a page would have set and the safelist leaves out, sorted', () => {
    expect(
      corsUnsafeHeaderNames(
        {
          'x-b': '1',
          'content-type': 'application/json',
          accept: 'application/json',
          'x-a': '2',
        },
        batch,
      ),
    ).toEqual(['content-type', 'x-a', 'x-b']);
  });

  it('leaves out what the browser sets itself and the connection headers', () => {
    expect(
      corsUnsafeHeaderNames(
        {
          host: 'app',
          cookie: 'a=1',
          origin: PAGE,
          'sec-fetch-mode': 'cors',
          'sec-ch-ua': '"x"',
          'content-length': '2',
          'x-forwarded-for': '1.2.3.4',
          'user-agent': 'Browser/1',
          'content-type': 'text/plain;charset=UTF-8',
          'accept-language': 'en-GB,en;q=0.9',
          range: 'bytes=0-99',
        },
        batch,
      ),
    ).toEqual([]);
  });

  it('holds values to the safelist', () => {
    const unsafe = (name: string, value: string) => corsUnsafeHeaderNames({ [name]: value }, {});
    expect(unsafe('accept', 'a{b}')).toEqual(['accept']);
    expect(unsafe('accept-language', 'en/GB')).toEqual(['accept-language']);
    expect(unsafe('content-type', 'text/plain; x="("')).toEqual(['content-type']);
    expect(unsafe('range', 'bytes=9-1')).toEqual(['range']);
    expect(unsafe('accept', 'a'.repeat(129))).toEqual(['accept']);
    expect(unsafe('user-agent', 'Other/1')).toEqual(['user-agent']);
    expect(unsafe('authorization', 'Bearer x')).toEqual(['authorization']);
  });
});

describe('needsPreflight', () => {
  it('for a method other than GET, HEAD, POST, or any unsafe header', () => {
    expect(needsPreflight('GET', [])).toBe(false);
    expect(needsPreflight('POST', [])).toBe(false);
    expect(needsPreflight('DELETE', [])).toBe(true);
    expect(needsPreflight('GET', ['x-a'])).toBe(true);
  });
});

describe('corsCheckProblem', () => {
  it('needs the origin, or * without credentials', () => {
    expect(corsCheckProblem({}, PAGE, false)).toMatch(/no Access-Control-Allow-Origin/);
    expect(corsCheckProblem({ 'access-control-allow-origin': '*' }, PAGE, false)).toBeUndefined();
    expect(corsCheckProblem({ 'access-control-allow-origin': '*' }, PAGE, true)).toMatch(
      /credentials/,
    );
    expect(
      corsCheckProblem({ 'access-control-allow-origin': 'https://other.example' }, PAGE, false),
    ).toMatch(/other\.example/);
    expect(corsCheckProblem({ 'access-control-allow-origin': PAGE }, PAGE, false)).toBeUndefined();
  });

  it('needs Access-Control-Allow-Credentials: true with credentials', () => {
    expect(corsCheckProblem({ 'access-control-allow-origin': PAGE }, PAGE, true)).toMatch(
      /Allow-Credentials/,
    );
    expect(
      corsCheckProblem(
        { 'access-control-allow-origin': PAGE, 'access-control-allow-credentials': 'true' },
        PAGE,
        true,
      ),
    ).toBeUndefined();
  });

  it('reads a repeated header as the browser does: joined, so it matches nothing', () => {
    expect(
      corsCheckProblem({ 'access-control-allow-origin': [PAGE, PAGE] }, PAGE, false),
    ).toBeDefined();
  });
});

describe('preflightProblem', () => {
  const allowing = (headers: Record<string, string>, statusCode = 204) => ({
    statusCode,
    headers: { 'access-control-allow-origin': PAGE, ...headers },
  });

  it('needs an ok status', () => {
    expect(preflightProblem(allowing({}, 404), PAGE, false, 'GET', ['x-a'])).toMatch(/404/);
  });

  it('needs the method listed, as written; * only without credentials', () => {
    const methods = (list: string, credentialed = false) =>
      preflightProblem(
        allowing({
          'access-control-allow-methods': list,
          'access-control-allow-credentials': 'true',
        }),
        PAGE,
        credentialed,
        'DELETE',
        [],
      );
    expect(methods('GET, DELETE')).toBeUndefined();
    expect(methods('GET,POST')).toMatch(/DELETE/);
    expect(methods('delete')).toMatch(/DELETE/);
    expect(methods('*')).toBeUndefined();
    expect(methods('*', true)).toMatch(/DELETE/);
  });

  it('needs every unsafe header listed, in any case; * covers all but authorization', () => {
    const headers = (list: string, unsafe: string[]) =>
      preflightProblem(allowing({ 'access-control-allow-headers': list }), PAGE, false, 'POST', [
        ...unsafe,
      ]);
    expect(headers('Content-Type, X-A', ['content-type', 'x-a'])).toBeUndefined();
    expect(headers('content-type', ['content-type', 'x-a'])).toMatch(/x-a/);
    expect(headers('*', ['content-type', 'x-a'])).toBeUndefined();
    expect(headers('*', ['authorization'])).toMatch(/authorization/);
    expect(headers('*, authorization', ['authorization'])).toBeUndefined();
  });
});

describe('exposedHeaders', () => {
  it('shows the safelisted headers and those exposed', () => {
    const readable = exposedHeaders({ 'access-control-expose-headers': 'X-A, etag' }, true);
    expect(['content-type', 'cache-control', 'x-a', 'etag'].every(readable)).toBe(true);
    expect(['x-b', 'location', 'access-control-allow-origin'].some(readable)).toBe(false);
  });

  it('shows every header for *, without credentials only', () => {
    const headers = { 'access-control-expose-headers': '*' };
    expect(exposedHeaders(headers, false)('x-b')).toBe(true);
    expect(exposedHeaders(headers, true)('x-b')).toBe(false);
  });
});

describe('sentWithoutCredentials', () => {
  const page = { origin: PAGE, 'sec-fetch-site': 'cross-site' };
  const reply =
    (headers: Record<string, string>) =>
    (name: string): unknown =>
      headers[name];

  it("when the app's CORS answer on the batch reply covers no request with credentials", () => {
    const answers: Record<string, string>[] = [{}, { 'access-control-allow-origin': '*' }];
    for (const headers of answers) {
      expect(sentWithoutCredentials(requestWith(page), reply(headers))).toBe(true);
    }
    const origin = { 'access-control-allow-origin': PAGE };
    expect(sentWithoutCredentials(requestWith(page), reply(origin))).toBe(true);
  });

  it('not when it lets the page read a reply to a request with credentials', () => {
    const credentials = {
      'access-control-allow-origin': PAGE,
      'access-control-allow-credentials': 'true',
    };
    expect(sentWithoutCredentials(requestWith(page), reply(credentials))).toBe(false);
  });

  it('not for a batch with a Cookie, nor one the app sent itself or a client without Origin', () => {
    const star = reply({ 'access-control-allow-origin': '*' });
    expect(sentWithoutCredentials(requestWith({ ...page, cookie: 'a=1' }), star)).toBe(false);
    const own = { origin: PAGE, 'sec-fetch-site': 'same-origin' };
    expect(sentWithoutCredentials(requestWith(own), star)).toBe(false);
    expect(sentWithoutCredentials(requestWith({}), star)).toBe(false);
  });
});
