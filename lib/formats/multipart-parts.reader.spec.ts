import { MultipartParseError } from '@remix-run/multipart-parser';
import { crlfFramed, readMultipartParts } from './multipart-parts.reader.js';

/** Bytes a line-end rewrite would change: bare LF, bare CR, CRLF, and a CR at the end. */
const BINARY = Buffer.from([
  0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x0a, 0xff, 0x0d,
]);

/** A multipart body of parts with these heads and bodies, framed with `eol`. */
function framed(eol: string, parts: readonly { head: string[]; body: Buffer }[]): Buffer {
  return Buffer.concat([
    Buffer.from(`preamble${eol}`),
    ...parts.flatMap(({ head, body }) => [
      Buffer.from(['--b', ...head, '', ''].join(eol)),
      body,
      Buffer.from(eol),
    ]),
    Buffer.from(`--b--${eol}epilogue`),
  ]);
}

const read = (bytes: Buffer) =>
  [...readMultipartParts(bytes, 'b', 10)].map(({ headers, mediaType, bytes: body }) => ({
    headers: { ...headers },
    mediaType,
    body: body.toString('hex'),
  }));

describe('readMultipartParts', () => {
  const parts = [
    { head: ['Content-Type: application/http', 'Content-ID: 1'], body: BINARY },
    { head: ['Content-Type: text/csv'], body: Buffer.from('a;b\n1;2\r\n\n') },
    { head: ['X-Empty: 1'], body: Buffer.alloc(0) },
  ];
  const expected = [
    {
      headers: { 'content-type': 'application/http', 'content-id': '1' },
      mediaType: 'application/http',
      body: BINARY.toString('hex'),
    },
    {
      headers: { 'content-type': 'text/csv' },
      mediaType: 'text/csv',
      body: Buffer.from('a;b\n1;2\r\n\n').toString('hex'),
    },
    { headers: { 'x-empty': '1' }, mediaType: undefined, body: '' },
  ];

  it.each([
    ['CRLF', '\r\n'],
    ['LF', '\n'],
  ])('reads heads and bodies framed with %s, every body byte as sent', (_name, eol) => {
    expect(read(framed(eol, parts))).toEqual(expected);
  });

  it('gives each body as a view of the bytes it read, not a copy', () => {
    const bytes = framed('\r\n', parts);
    const [first] = readMultipartParts(bytes, 'b', 10);
    // Within its memory (small Buffers share a pool: the same .buffer alone says nothing).
    expect(first?.bytes.buffer).toBe(bytes.buffer);
    expect(first?.bytes.byteOffset).toBe(bytes.byteOffset + bytes.indexOf(BINARY));
  });

  it('takes the LF before a delimiter as the delimiter’s: a body’s own CR before it stays', () => {
    const bytes = Buffer.from('--b\nContent-Type: x/y\n\nend\r\n--b--\n');
    expect(read(bytes).map(({ body }) => Buffer.from(body, 'hex').toString())).toEqual(['end\r']);
  });

  it('refuses an unfinished body, as the parser does', () => {
    expect(() => read(Buffer.from('--b\nContent-Type: x/y\n\nno end'))).toThrow(
      MultipartParseError,
    );
  });
});

describe('crlfFramed', () => {
  it('takes a body framed with CRLF as it is, from its first boundary on', () => {
    const bytes = framed('\r\n', [{ head: ['A: 1'], body: BINARY }]);
    const result = crlfFramed(bytes, 'b');
    expect(result.buffer).toBe(bytes.buffer);
    expect(result.byteOffset).toBe(bytes.byteOffset + bytes.indexOf('--b'));
    expect(result.toString('latin1')).toBe(bytes.subarray(bytes.indexOf('--b')).toString('latin1'));
  });

  it('rewrites LF framing, and only the framing, to CRLF', () => {
    const bytes = framed('\n', [
      { head: ['A: 1', 'B: 2'], body: Buffer.from('x\ny\r') },
      { head: [], body: Buffer.from('\n') },
    ]);
    expect(crlfFramed(bytes, 'b').toString('latin1')).toBe(
      '--b\r\nA: 1\r\nB: 2\r\n\r\nx\ny\r\r\n--b\r\n\r\n\n\r\n--b--\nepilogue',
    );
  });
});
