import { BatchLimitExceededException } from '../batch.exceptions.js';
import { ChangeSetError, parseChangeSet } from './change-set.parser.js';

/** A change set body of `application/http` parts, each with its own headers. */
function changeSet(parts: readonly { headers: readonly string[]; http: string }[]): Buffer {
  const body = parts
    .map((part) => ['--cs', ...part.headers, '', part.http].join('\r\n'))
    .join('\r\n');
  return Buffer.from(`${body}\r\n--cs--\r\n`);
}

const http = ['Content-Type: application/http'];

describe('parseChangeSet', () => {
  it('reads each request with its Content-ID, and $-references to earlier ones', () => {
    const { requests } = parseChangeSet(
      changeSet([
        { headers: [...http, 'Content-ID: <1>'], http: 'POST items HTTP/1.1\r\n\r\n{}' },
        { headers: [...http, 'Content-ID: 2'], http: 'PATCH $1/qty HTTP/1.1\r\n' },
      ]),
      'cs',
      50,
    );
    expect(requests).toMatchObject([
      { contentId: '1', method: 'POST', target: 'items', reference: undefined },
      {
        contentId: '2',
        method: 'PATCH',
        target: '$1/qty',
        reference: { contentId: '1', rest: '/qty' },
      },
    ]);
  });

  it.each([
    [
      'a request without Content-ID numbered as another one is named',
      [
        { headers: [...http, 'Content-ID: 2'], http: 'POST /a HTTP/1.1\r\n' },
        { headers: http, http: 'POST /b HTTP/1.1\r\n' },
      ],
      /request 2 of the change set has no Content-ID, and \$2 would also name request 1/,
    ],
    [
      'a Content-ID written as the number of an earlier request without one',
      [
        { headers: http, http: 'POST /a HTTP/1.1\r\n' },
        { headers: [...http, 'Content-ID: 1'], http: 'POST /b HTTP/1.1\r\n' },
      ],
      /request 1 of the change set has no Content-ID, and \$1 would also name request 2/,
    ],
    [
      'a repeated Content-ID',
      [
        { headers: [...http, 'Content-ID: 1'], http: 'GET /a HTTP/1.1\r\n' },
        { headers: [...http, 'Content-ID: 1'], http: 'GET /b HTTP/1.1\r\n' },
      ],
      /Content-ID 1 is not unique/,
    ],
    [
      'a reference to itself or a later request',
      [{ headers: [...http, 'Content-ID: 1'], http: 'PATCH $1 HTTP/1.1\r\n' }],
      /\$1 names no earlier Content-ID/,
    ],
    [
      'a nested change set',
      [{ headers: ['Content-Type: multipart/mixed; boundary=x', 'Content-ID: 1'], http: '--x--' }],
      /change sets do not nest/,
    ],
    [
      'a part that is not a request',
      [{ headers: [...http, 'Content-ID: 1'], http: 'not http at all' }],
      /not an HTTP request/,
    ],
  ])('refuses %s, saying why', (_name, parts, message) => {
    expect(() => parseChangeSet(changeSet(parts), 'cs', 50)).toThrow(ChangeSetError);
    expect(() => parseChangeSet(changeSet(parts), 'cs', 50)).toThrow(message);
  });

  it('numbers requests without a Content-ID by their position, as OData 2.0 and 3.0 clients send them', () => {
    const { requests } = parseChangeSet(
      changeSet([
        { headers: http, http: 'POST items HTTP/1.1\r\n\r\n{}' },
        { headers: [...http, 'Content-ID: <x>'], http: 'POST items HTTP/1.1\r\n\r\n{}' },
        { headers: http, http: 'PATCH $1 HTTP/1.1\r\n' },
      ]),
      'cs',
      50,
    );
    expect(requests).toMatchObject([
      { contentId: '1', written: undefined },
      { contentId: 'x', written: '<x>' },
      { contentId: '3', written: undefined, reference: { contentId: '1', rest: '' } },
    ]);
  });

  it("reads a change set framed with LF, each request's body as written", () => {
    const bytes = Buffer.from(
      '--cs\nContent-Type: application/http\nContent-ID: 1\n\nPOST /a HTTP/1.1\n\nx\ny\n--cs--\n',
    );
    const [request] = parseChangeSet(bytes, 'cs', 50).requests;
    expect(request).toMatchObject({ contentId: '1', method: 'POST', target: '/a' });
    expect(request?.bytes.toString()).toBe('POST /a HTTP/1.1\n\nx\ny');
  });

  it('holds no more requests than the batch limit: a 413, as a batch over it', () => {
    const parts = [1, 2, 3].map((id) => ({
      headers: [...http, `Content-ID: ${id}`],
      http: 'GET /a HTTP/1.1\r\n',
    }));
    expect(() => parseChangeSet(changeSet(parts), 'cs', 2)).toThrow(BatchLimitExceededException);
  });
});
