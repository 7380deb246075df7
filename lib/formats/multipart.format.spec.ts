import { BatchLimitExceededException } from '../batch.exceptions.js';
import type { BatchResult } from '../interfaces/batch-operation.interface.js';
import { boundaryOf, decodeMultipart } from './multipart.format.js';
import { problemsOf } from '../../test/utils/invalid-batch.js';

/** A multipart/mixed body of `application/http` parts, CRLF. */
function body(parts: readonly { headers?: readonly string[]; http: string }[]): Buffer {
  const text = parts
    .map((part) =>
      ['--b', 'Content-Type: application/http', ...(part.headers ?? []), '', part.http].join(
        '\r\n',
      ),
    )
    .join('\r\n');
  return Buffer.from(`${text}\r\n--b--\r\n`);
}

const decode = (bytes: Buffer, headers = {}, limit = 20, url?: string) =>
  decodeMultipart({ boundary: 'b', bytes, headers, url }, limit);

describe('decodeMultipart', () => {
  it('reads one operation per part: method, origin-form target, headers and body', () => {
    const { operations, format } = decode(
      body([
        { http: 'GET /items?x=1 HTTP/1.1\r\nAccept: application/json\r\n' },
        {
          http: 'POST https://elsewhere.example/items HTTP/1.1\r\nContent-Type: application/json\r\nHost: elsewhere.example\r\n\r\n{"name":"a"}',
        },
      ]),
    );
    expect(format).toBe('multipart');
    expect(operations).toEqual([
      { method: 'GET', url: '/items?x=1', headers: { accept: 'application/json' } },
      // The host is the batch's own: an absolute target is cut to its path, Host dropped.
      {
        method: 'POST',
        url: '/items',
        headers: { 'content-type': 'application/json' },
        body: '{"name":"a"}',
      },
    ]);
  });

  it("gives parts the batch request's own headers, except those about the batch request itself", () => {
    const { operations } = decode(body([{ http: 'GET /me HTTP/1.1\r\nX-Own: part\r\n' }]), {
      authorization: 'Bearer t',
      'x-own': 'outer',
      accept: 'multipart/mixed',
      'content-type': 'multipart/mixed; boundary=b',
      'x-forwarded-for': '1.2.3.4',
    });
    expect(operations[0]?.headers).toEqual({ authorization: 'Bearer t', 'x-own': 'part' });
  });

  it('resolves a relative target against the batch url, as OData clients write them', () => {
    const { operations } = decode(
      body([{ http: 'GET items/1 HTTP/1.1\r\n' }]),
      {},
      20,
      '/odata/$batch',
    );
    expect(operations[0]?.url).toBe('/odata/items/1');
  });

  it('names a part that is not an HTTP request by its 1-based position', () => {
    const problems = problemsOf(() =>
      decode(body([{ http: 'GET /ok HTTP/1.1\r\n' }, { http: 'not a request' }])),
    );
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^part 2: /);
  });

  it('carries a text body that is not UTF-8 as its bytes, a UTF-8 one as text', () => {
    const latin1 = Buffer.from('caf\u00e9', 'latin1');
    const part = (type: string, text: Buffer) =>
      Buffer.concat([Buffer.from(`POST /t HTTP/1.1\r\nContent-Type: ${type}\r\n\r\n`), text]);
    const bytes = Buffer.concat([
      Buffer.from('--b\r\nContent-Type: application/http\r\n\r\n'),
      part('text/csv; charset=iso-8859-1', latin1),
      Buffer.from('\r\n--b\r\nContent-Type: application/http\r\n\r\n'),
      part('application/json', Buffer.from('"caf\u00e9"')),
      Buffer.from('\r\n--b--\r\n'),
    ]);
    const [csv, json] = decode(bytes).operations;
    // Decoded as UTF-8, the é (0xE9) would have become U+FFFD.
    expect(csv?.body).toEqual(latin1);
    expect(json?.body).toBe('"caf\u00e9"');
  });

  it("passes a part's body on as written in a batch framed with LF: its line ends are data", () => {
    const bytes = Buffer.from(
      '--b\nContent-Type: application/http\n\nPUT /t HTTP/1.1\nContent-Type: text/csv\n\na\n1\r\n--b--\n',
    );
    expect(decode(bytes).operations[0]).toMatchObject({ method: 'PUT', body: 'a\n1\r' });
  });

  it('decodes an OData change set as one atomic group, its requests named by part and position', () => {
    const changeSet = [
      '--b',
      'Content-Type: multipart/mixed; boundary=cs',
      '',
      '--cs',
      'Content-Type: application/http',
      'Content-ID: 1',
      '',
      'POST /items HTTP/1.1',
      '',
      '{}',
      '--cs--',
      '--b--',
      '',
    ].join('\r\n');
    const { operations } = decode(Buffer.from(changeSet));
    expect(operations).toEqual([
      expect.objectContaining({
        method: 'POST',
        url: '/items',
        name: 'changeset-1.1',
        atomicityGroup: 'changeset-1',
      }),
    ]);
  });

  it('echoes change-set Content-IDs as written, numbering the requests sent without one', () => {
    const changeSet = [
      '--b',
      'Content-Type: multipart/mixed; boundary=cs',
      '',
      '--cs',
      'Content-Type: application/http',
      '',
      'POST /items HTTP/1.1',
      '',
      '{}',
      '--cs',
      'Content-Type: application/http',
      'Content-ID: <two>',
      '',
      'PATCH $1 HTTP/1.1',
      '',
      '{}',
      '--cs--',
      '--b--',
      '',
    ].join('\r\n');
    const batch = decode(Buffer.from(changeSet));
    expect(batch.operations.map((operation) => operation.url)).toEqual([
      '/items',
      '/{result=changeset-1.1:@location}',
    ]);
    const ok: BatchResult = { method: 'POST', url: '/items', code: 201, headers: {} };
    const reply = batch.encode([ok, ok]);
    if (reply.kind !== 'bytes') throw new Error('a multipart reply is bytes');
    const ids = [...reply.body.toString('latin1').matchAll(/Content-ID: (.*)\r\n/g)];
    expect(ids.map((match) => match[1])).toEqual(['1', '<two>']);
  });

  it("keeps a {result= after a change set's $1 as text, and every other in a part's url", () => {
    const changeSet = [
      '--b',
      'Content-Type: multipart/mixed; boundary=cs',
      '',
      '--cs',
      'Content-Type: application/http',
      '',
      'POST /items?q={result=a} HTTP/1.1',
      '',
      '{}',
      '--cs',
      'Content-Type: application/http',
      '',
      'PATCH $1/notes?q={result=x} HTTP/1.1',
      '',
      '{}',
      '--cs--',
      '--b--',
      '',
    ].join('\r\n');
    expect(decode(Buffer.from(changeSet)).operations.map((operation) => operation.url)).toEqual([
      '/items?q=%7Bresult=a}',
      '/{result=changeset-1.1:@location}/notes?q=%7Bresult=x}',
    ]);
  });

  it('refuses a change set over the limit with a 413, as a batch over it', () => {
    const members = [1, 2, 3].flatMap((id) => [
      '--cs',
      'Content-Type: application/http',
      `Content-ID: ${id}`,
      '',
      'POST /items HTTP/1.1',
      '',
    ]);
    const changeSet = ['--b', 'Content-Type: multipart/mixed; boundary=cs', '', ...members];
    const bytes = Buffer.from([...changeSet, '--cs--', '--b--', ''].join('\r\n'));
    expect(() => decode(bytes, {}, 2)).toThrow(BatchLimitExceededException);
  });

  it('refuses more parts than the limit while parsing', () => {
    const parts = Array.from({ length: 4 }, () => ({ http: 'GET /a HTTP/1.1\r\n' }));
    expect(() => decode(body(parts), {}, 3)).toThrow(BatchLimitExceededException);
  });
});

describe('the multipart reply', () => {
  it("answers each part in order, its Content-ID in the request's form: <response-id> for <id>, a bare id as sent", () => {
    const batch = decode(
      body([
        { headers: ['Content-ID: <item1>'], http: 'GET /a HTTP/1.1\r\n' },
        { headers: ['Content-ID: two'], http: 'GET /b HTTP/1.1\r\n' },
        { http: 'GET /c HTTP/1.1\r\n' },
      ]),
    );
    const ok: BatchResult = {
      method: 'GET',
      url: '/a',
      code: 200,
      headers: { 'content-type': 'application/json' },
      body: { id: 1 },
    };
    const reply = batch.encode([ok, ok, null]);
    if (reply.kind !== 'bytes') throw new Error('a multipart reply is bytes');
    const boundary = boundaryOf(reply.contentType.split(';').slice(1));
    expect(reply.contentType).toMatch(/^multipart\/mixed; boundary=/);
    const text = reply.body.toString('latin1');
    expect(text.endsWith(`--${String(boundary)}--\r\n`)).toBe(true);
    const ids = [...text.matchAll(/Content-ID: (.*)\r\n/g)].map((match) => match[1]);
    // OData: the response carries the request's id; Google: <response-id>; none sent: a number.
    expect(ids).toEqual(['<response-item1>', 'two', 'response-3']);
    expect(text).toContain('HTTP/1.1 200 OK\r\nContent-Type: application/json');
    expect(text).toContain('{"id":1}');
    // No empty entry in multipart: the unfinished one is a 504.
    expect(text).toContain('HTTP/1.1 504 Gateway Timeout');
  });

  it('writes no header value that would break out of its line (CR, LF, NUL), as Node refuses them', () => {
    // The capture keeps only headers Node took; a listener or a hand-built result may not.
    const batch = decode(body([{ http: 'GET /a HTTP/1.1\r\n' }]));
    const reply = batch.encode([
      {
        method: 'GET',
        url: '/a',
        code: 200,
        headers: {
          'content-type': 'text/plain',
          'content-disposition': 'attachment; filename="x.txt"\r\nX-Injected: yes',
          'x-list': ['fine', 'bad\nX-Also: yes'],
          'x-nul': 'a\u0000b',
        },
        body: 'ok',
      },
    ]);
    if (reply.kind !== 'bytes') throw new Error('a multipart reply is bytes');
    const text = reply.body.toString('latin1');
    expect(text).not.toMatch(/\r\nX-(Injected|Also): yes/);
    expect(text).not.toContain('\u0000');
    expect(text).toContain('X-List: fine\r\n');
    expect(text).toContain('Content-Type: text/plain\r\n');
  });
});

describe('boundaryOf', () => {
  it('reads a quoted or unquoted boundary parameter', () => {
    expect(boundaryOf([' boundary=abc'])).toBe('abc');
    expect(boundaryOf(['charset=utf-8', 'Boundary="a b"'])).toBe('a b');
    expect(boundaryOf(['charset=utf-8'])).toBeUndefined();
  });
});
