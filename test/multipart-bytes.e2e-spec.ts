import { All, Controller, Get, HttpCode, Module, Param, Req, Res } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createHash } from 'node:crypto';
import { takeOverResponse } from './utils/node-response.js';
import { forEachPlatform, type Platform } from './utils/platforms.js';
import { postRaw, rawRequest } from './utils/raw-http.js';
import { useTestApp, type TestApp } from './utils/test-app.js';

/**
 * Bodies carried in a multipart/mixed batch (Google, OData, Flask-Batch), byte for byte, both
 * ways: the app reads the bytes a part carried, as a direct request delivers the bytes its client
 * wrote, and a reply part carries the bytes the app wrote. Whatever the batch's line ends (CRLF,
 * or LF as JavaScript templates write them) and whatever the body's charset.
 */

/** What the app read of a body: its bytes, exactly (an upload, a CSV import, a signed payload). */
interface BytesSeen {
  size: number;
  sha256: string;
  hex: string;
}

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** A Latin-1 text, not UTF-8: é and ï are one byte each, invalid as UTF-8. */
const LATIN1_TEXT = Buffer.from('id;name\r\n1;caf\u00e9\n2;na\u00efve\r', 'latin1');

/** Bytes a line-end rewrite would change: bare LF, bare CR, CRLF, LF CR, and a CR at the end. */
const BINARY = Buffer.from([
  0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x0a, 0x0a, 0x0d, 0xff, 0x0d,
]);

const SENT = { latin1: LATIN1_TEXT, binary: BINARY } as const;
const SENT_TYPES = {
  latin1: 'text/plain; charset=iso-8859-1',
  binary: 'application/octet-stream',
} as const;

@Controller('bytes')
class BytesController {
  @All()
  @HttpCode(200)
  seen(@Req() req: { body?: unknown }): BytesSeen | { error: string } {
    const { body } = req;
    if (!Buffer.isBuffer(body)) return { error: `body is ${typeof body}` };
    return { size: body.length, sha256: sha256(body), hex: body.toString('hex') };
  }

  /** Bytes the app writes itself, under a type that says they are not UTF-8 text. */
  @Get('sent/:which')
  sent(@Param('which') which: keyof typeof SENT, @Res() reply: object): void {
    const response = takeOverResponse(reply);
    response.writeHead(200, { 'content-type': SENT_TYPES[which] });
    response.end(SENT[which]);
  }
}

@Module({ controllers: [BytesController] })
class BytesModule {}

/** Read raw by the app: the types of the bodies these tests send (`+json`: a JSON type to us). */
const RAW_TYPES = ['text/csv', 'text/plain', 'application/octet-stream', 'application/vnd.x+json'];

/** Raw bodies for the types above, as each adapter's apps read them: a Buffer on `req.body`. */
function rawParsers(platform: Platform): (app: INestApplication) => void {
  return (app) => {
    if (platform.name === 'express') {
      (app as NestExpressApplication).useBodyParser('raw', { type: RAW_TYPES });
      return;
    }
    const fastify = (app as NestFastifyApplication).getHttpAdapter().getInstance();
    fastify.removeContentTypeParser('text/plain');
    fastify.addContentTypeParser(RAW_TYPES, { parseAs: 'buffer' }, (_req, body, done) =>
      done(null, body),
    );
  };
}

/** The body the app read when the request was sent directly, with exactly these bytes. */
async function direct(
  t: TestApp,
  method: string,
  contentType: string,
  body: Buffer,
): Promise<unknown> {
  const response = await rawRequest(t, {
    method,
    path: '/bytes',
    headers: { 'content-type': contentType },
    body,
  });
  expect(response.status).toBe(200);
  return JSON.parse(response.body.toString('utf8'));
}

/** One reply part, its body cut at its Content-Length: every byte of it, nothing around it. */
interface PartReply {
  code: number;
  contentType: string | undefined;
  body: Buffer;
}

/** The parts of a multipart/mixed reply, found in its bytes (never decoded as text). */
function replyParts(contentType: string | undefined, reply: Buffer): PartReply[] {
  const boundary = /boundary=([^;]+)$/.exec(contentType ?? '')?.[1];
  if (!boundary) throw new Error(`no boundary in ${String(contentType)}`);
  const parts: PartReply[] = [];
  let at = reply.indexOf(`--${boundary}\r\n`);
  while (at !== -1) {
    const message = reply.indexOf('\r\n\r\n', at) + 4;
    const headEnd = reply.indexOf('\r\n\r\n', message);
    const head = reply.subarray(message, headEnd).toString('latin1').split('\r\n');
    const header = (name: string) =>
      head.find((line) => line.toLowerCase().startsWith(`${name}:`))?.replace(/^[^:]+:\s*/, '');
    const length = Number(header('content-length'));
    const body = reply.subarray(headEnd + 4, headEnd + 4 + length);
    parts.push({ code: Number(head[0]?.split(' ')[1]), contentType: header('content-type'), body });
    expect(reply.subarray(headEnd + 4 + length, headEnd + 6 + length).toString()).toBe('\r\n');
    at = reply.indexOf(`--${boundary}\r\n`, headEnd + 4 + length);
  }
  return parts;
}

/** Posts a multipart/mixed batch: the reply's Content-Type and bytes. */
async function post(t: TestApp, body: Buffer, boundary: string): Promise<[string, Buffer]> {
  const reply = await postRaw(t, body, {
    'content-type': `multipart/mixed; boundary=${boundary}`,
    'content-length': body.length,
  });
  expect(reply.status).toBe(200);
  return [reply.headers['content-type'] ?? '', reply.body];
}

/** Posts a multipart/mixed batch and gives its reply parts. */
async function batch(t: TestApp, body: Buffer, boundary: string): Promise<PartReply[]> {
  return replyParts(...(await post(t, body, boundary)));
}

/** The body the app read for the one part of a multipart/mixed batch. */
async function batched(t: TestApp, body: Buffer, boundary: string): Promise<unknown> {
  const [part] = await batch(t, body, boundary);
  expect(part?.code).toBe(200);
  return JSON.parse(part?.body.toString('utf8') ?? 'null');
}

/** An `application/http` part's head, its embedded request's head, and its body, framed by `eol`. */
function httpPart(
  eol: string,
  boundary: string,
  request: string,
  contentType: string | undefined,
  body: Buffer,
): Buffer {
  const head = [
    `--${boundary}`,
    'Content-Type: application/http',
    'Content-ID: 1',
    '',
    request,
    ...(contentType === undefined ? [] : [`Content-Type: ${contentType}`]),
    '',
    '',
  ];
  return Buffer.concat([Buffer.from(head.join(eol), 'latin1'), body]);
}

/** One `application/http` part, framed with `eol` (CRLF, or LF as JavaScript templates write). */
function onePartBatch(
  eol: string,
  boundary: string,
  method: string,
  contentType: string | undefined,
  body: Buffer,
): Buffer {
  return Buffer.concat([
    httpPart(eol, boundary, `${method} /bytes HTTP/1.1`, contentType, body),
    Buffer.from(`${eol}--${boundary}--${eol}`, 'latin1'),
  ]);
}

/** An OData change set of one request, in a batch framed with `eol`. */
function changeSetBatch(eol: string, contentType: string, body: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(['--b', 'Content-Type: multipart/mixed; boundary=cs', '', ''].join(eol)),
    httpPart(eol, 'cs', 'POST /bytes HTTP/1.1', contentType, body),
    Buffer.from([`${eol}--cs--`, '--b--', ''].join(eol)),
  ]);
}

const LINE_ENDS = [
  ['CRLF', '\r\n'],
  ['LF', '\n'],
] as const;

forEachPlatform((platform) => {
  const t = useTestApp({
    imports: [BytesModule],
    configure: rawParsers(platform),
    // A change set is an atomic group, which needs a transaction hook: one with no database.
    batch: { transaction: (work) => work() },
  });

  describe('a request body in a batch framed with LF line ends (accepted, per docs/formats.md)', () => {
    // The delimiter is "\n--b": everything before it, after the part's blank line, is the body
    // the client wrote. Its own line breaks are bytes of the body, not framing.
    it('delivers a CSV body with LF line ends as written, not with CRLF', async () => {
      const csv = Buffer.from('id;name\n1;alpha\n2;beta');
      const expected = await direct(t, 'PUT', 'text/csv', csv);
      const seen = await batched(t, onePartBatch('\n', 'b', 'PUT', 'text/csv', csv), 'b');
      expect(seen).toEqual(expected);
    });

    it('delivers a binary upload byte for byte: every LF and CR stays, a CR at its end too', async () => {
      const expected = await direct(t, 'POST', 'application/octet-stream', BINARY);
      const seen = await batched(
        t,
        onePartBatch('\n', 'b', 'POST', 'application/octet-stream', BINARY),
        'b',
      );
      expect(seen).toEqual(expected);
    });

    it('delivers a binary body in an OData change set byte for byte', async () => {
      const expected = await direct(t, 'POST', 'application/octet-stream', BINARY);
      const [, reply] = await post(
        t,
        changeSetBatch('\n', 'application/octet-stream', BINARY),
        'b',
      );
      // The change set's one response, in a multipart/mixed part of its own.
      const inner = /boundary=(changesetresponse_\w+)/.exec(reply.toString('latin1'))?.[1];
      const [member] = replyParts(`multipart/mixed; boundary=${inner}`, reply);
      expect(member?.code).toBe(200);
      expect(JSON.parse(member?.body.toString('utf8') ?? 'null')).toEqual(expected);
    });
  });

  describe.each(LINE_ENDS)(
    'a request body that is not UTF-8, in a batch framed with %s',
    (_, eol) => {
      it('delivers a Latin-1 text byte for byte, as its charset says', async () => {
        const type = 'text/csv; charset=iso-8859-1';
        const expected = await direct(t, 'POST', type, LATIN1_TEXT);
        const seen = await batched(t, onePartBatch(eol, 'b', 'POST', type, LATIN1_TEXT), 'b');
        expect(seen).toEqual(expected);
      });

      it.each(['text/plain; charset=utf-16le', 'application/vnd.x+json; charset=utf-16le'])(
        'delivers a UTF-16 body (%s) byte for byte',
        async (type) => {
          const json = Buffer.from('{"name":"caf\u00e9"}', 'utf16le');
          const expected = await direct(t, 'POST', type, json);
          const seen = await batched(t, onePartBatch(eol, 'b', 'POST', type, json), 'b');
          expect(seen).toEqual(expected);
        },
      );
    },
  );

  describe.each(LINE_ENDS)('a response body, in a batch framed with %s', (_, eol) => {
    it.each(Object.keys(SENT) as (keyof typeof SENT)[])(
      'carries the %s bytes the app wrote, as the direct response has them',
      async (which) => {
        const response = await rawRequest(t, { method: 'GET', path: `/bytes/sent/${which}` });
        expect(sha256(response.body)).toBe(sha256(SENT[which]));
        const parts = await batch(
          t,
          Buffer.from(
            [
              '--b',
              'Content-Type: application/http',
              '',
              `GET /bytes/sent/${which} HTTP/1.1`,
              '',
              '--b--',
              '',
            ].join(eol),
          ),
          'b',
        );
        expect(parts.map(({ code, contentType }) => ({ code, contentType }))).toEqual([
          { code: 200, contentType: SENT_TYPES[which] },
        ]);
        expect(sha256(parts[0]?.body ?? Buffer.alloc(0))).toBe(sha256(response.body));
      },
    );
  });
});
