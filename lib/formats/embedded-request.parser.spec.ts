import { EmbeddedRequestError, parseEmbeddedRequest } from './embedded-request.parser.js';

const parse = (text: string) => {
  const request = parseEmbeddedRequest(Buffer.from(text, 'latin1'));
  return { ...request, body: request.body.toString('latin1') };
};

describe('parseEmbeddedRequest', () => {
  it('reads method, target, headers in order and the body up to the part end, without Content-Length', () => {
    expect(
      parse('POST /items?x=1 HTTP/1.1\r\nContent-Type: application/json\r\nX-A: 1\r\n\r\n{"a":1}'),
    ).toEqual({
      method: 'POST',
      target: '/items?x=1',
      headers: [
        ['Content-Type', 'application/json'],
        ['X-A', '1'],
      ],
      body: '{"a":1}',
    });
  });

  it('reads LF line ends', () => {
    expect(parse('PUT /a HTTP/1.1\nX-B: 2\n\nbody\n')).toMatchObject({
      method: 'PUT',
      headers: [['X-B', '2']],
      body: 'body\n',
    });
  });

  it('reads a request line without an HTTP version, and a head without its blank line', () => {
    expect(parse('GET /farm/v1/animals/pony\r\n')).toMatchObject({
      method: 'GET',
      target: '/farm/v1/animals/pony',
      headers: [],
      body: '',
    });
    expect(parse('GET /x HTTP/1.1\r\nAccept: a/b')).toMatchObject({
      headers: [['Accept', 'a/b']],
      body: '',
    });
    expect(parse('\r\nDELETE /y')).toMatchObject({ method: 'DELETE', target: '/y' });
  });

  it('keeps an absolute target as written: the codec cuts it to its path', () => {
    expect(parse('GET http://other.example/z HTTP/1.1\r\n\r\n').target).toBe(
      'http://other.example/z',
    );
  });

  it('keeps a body that itself looks like a request', () => {
    expect(parse('POST /p HTTP/1.1\r\n\r\nGET /evil HTTP/1.1\r\n\r\n').body).toBe(
      'GET /evil HTTP/1.1\r\n\r\n',
    );
  });

  it('gives the body as a view of the part, after a request line without a version too', () => {
    const bytes = Buffer.from('\r\nPOST /p\nA: 1\n\r\n\x00\n\r\xff', 'latin1');
    const { body, headers } = parseEmbeddedRequest(bytes);
    expect(headers).toEqual([['A', '1']]);
    expect(body.toString('latin1')).toBe('\x00\n\r\xff');
    // Within the part's own memory (small Buffers share a pool: the same .buffer says nothing).
    expect(body.buffer).toBe(bytes.buffer);
    expect(body.byteOffset).toBe(bytes.byteOffset + bytes.length - body.length);
  });

  it.each([
    ['no request line', ''],
    ['words', 'this is not http'],
    ['a header without a colon', 'GET / HTTP/1.1\r\nbroken header\r\n\r\n'],
    ['a bad version', 'GET / HTTP/9\r\n\r\n'],
  ])('refuses %s with an EmbeddedRequestError', (_name, text) => {
    expect(() => parse(text)).toThrow(EmbeddedRequestError);
  });
});
