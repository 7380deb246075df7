/**
 * Hostile review of decoded bodies and of how an operation's answer ends: what a client reached
 * directly reads, against what the operation's entry says, on both adapters.
 */
import { Controller, Get, type INestApplication, Module, Param, Query, Res } from '@nestjs/common';
import cors from 'cors';
import { inspect } from 'node:util';
import { deflateRawSync, gzipSync } from 'node:zlib';
import { BatchExecutor, type BatchResult } from 'nestjs-batch';
import { currentPlatform, forEachPlatform } from './utils/platforms.js';
import { direct } from './utils/direct-view.js';
import { baseOf, readText } from './utils/raw-http.js';
import { entries, useTestApp, withTestApp } from './utils/test-app.js';
import { takeOverResponse } from './utils/node-response.js';

const BODY = 'hello world!';

/** Content-Length values, by name: each a spelling a client must decide on. */
const LENGTHS: Record<string, string> = {
  plain: '12',
  'leading space': ' 12',
  'trailing space': '12 ',
  repeated: '12, 12',
  'repeated, differing': '12, 13',
  plus: '+12',
  hex: '0xc',
  negative: '-1',
  exponent: '1.2e1',
  'sixteen digits': '1000000000000000',
  'leading zeros': '0012',
  shorter: '5',
  'shorter, repeated': '5,5',
  empty: '',
};

@Controller('lengths')
class LengthsController {
  @Get(':name')
  length(@Param('name') name: string, @Res() reply: object): void {
    const res = takeOverResponse(reply);
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': LENGTHS[name] ?? '12' });
    res.end(BODY);
  }
}

/**
 * A body framed twice: a Content-Length and `Transfer-Encoding: chunked`, which a server must not
 * send together (RFC 9112 §6.2), set on Node's response or through the framework's reply.
 */
@Controller('framing')
class FramingController {
  @Get('raw')
  raw(@Res() reply: object): void {
    const res = takeOverResponse(reply);
    res.setHeader('set-cookie', 'framed=1; Path=/');
    res.writeHead(200, {
      'content-type': 'text/plain',
      'content-length': BODY.length,
      'transfer-encoding': 'chunked',
    });
    res.end(BODY);
  }

  @Get('framework')
  framework(@Res() reply: object): void {
    // Express's response and Fastify's reply both have `header(name, value)` and `send(body)`.
    const both = reply as {
      header(name: string, value: string): unknown;
      send(body: string): void;
    };
    both.header('content-type', 'text/plain');
    both.header('content-length', String(BODY.length));
    both.header('transfer-encoding', 'chunked');
    both.send(BODY);
  }
}

/** Binary bytes of every value, more than a decoded chunk (90 KiB) and not a multiple of 3. */
const BINARY = Buffer.from(Array.from({ length: 200_003 }, (_, i) => (i * 7 + (i >> 8)) % 256));
const GZIPPED = gzipSync(BINARY);
const SMALL = Buffer.from([0, 1, 2, 0xfb, 0xff]);

/** Encoded bodies, by name: each with its coding and bytes. */
const ENCODED: Record<string, { coding: string; bytes: Buffer }> = {
  gzip: { coding: 'gzip', bytes: GZIPPED },
  'raw deflate': { coding: 'deflate', bytes: deflateRawSync(BINARY) },
  'two gzip members': {
    coding: 'gzip',
    bytes: Buffer.concat([gzipSync(BINARY.subarray(0, 1000)), gzipSync(BINARY.subarray(1000))]),
  },
  'gzip of nothing': { coding: 'gzip', bytes: gzipSync(Buffer.alloc(0)) },
  small: { coding: 'gzip', bytes: gzipSync(SMALL) },
};

@Controller('encoded')
class EncodedController {
  @Get(':name')
  encoded(@Param('name') name: string, @Res() reply: object): void {
    const { coding, bytes } = ENCODED[name] ?? { coding: 'gzip', bytes: GZIPPED };
    const res = takeOverResponse(reply);
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-encoding': coding,
      'content-length': bytes.length,
    });
    res.end(bytes);
  }
}

/** JSON text a parse and stringify would change: the entry must carry it as written. */
const APP_JSON = '{"b":1.50,"2":true,"a":1e3}';

@Controller('app-json')
class AppJsonController {
  @Get(':cookie')
  json(@Param('cookie') cookie: string, @Res() reply: object): void {
    const res = takeOverResponse(reply);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (cookie === 'with-cookie') headers['set-cookie'] = 'c=1; Path=/';
    res.writeHead(200, headers);
    res.end(APP_JSON);
  }
}

@Controller('review-echo')
class EchoController {
  @Get()
  echo(@Query('value') value: string): { value: string } {
    return { value };
  }
}

/** Answers after its handler returned: the headers go out once the operation is under way. */
@Controller('late')
class LateController {
  @Get(':how')
  late(@Param('how') how: string, @Res() reply: object): void {
    const res = takeOverResponse(reply);
    setTimeout(() => {
      res.setHeader('set-cookie', `late-${how}=1; Path=/`);
      res.writeHead(200, { 'content-type': 'text/plain' });
      if (how === 'flush-then-end') {
        res.flushHeaders();
        res.end('secret');
      } else if (how === 'destroyed') {
        res.write('secret', () => res.destroy());
      } else {
        res.write('secret');
        res.write('more secret');
        setTimeout(() => res.end('last secret'), 5);
      }
    }, 5);
  }
}

@Module({
  controllers: [
    LengthsController,
    FramingController,
    EncodedController,
    LateController,
    EchoController,
    AppJsonController,
  ],
})
class ReviewModule {}

const PARTNER = 'https://partner.example';
const FROM_PARTNER = {
  origin: PARTNER,
  cookie: 'session=user',
  'sec-fetch-site': 'cross-site',
  'sec-fetch-mode': 'cors',
  'sec-fetch-dest': 'empty',
};

/** CORS for the partner on /batch alone: every other route is closed to it. */
function configure(app: INestApplication): void {
  const policy = { origin: PARTNER, credentials: true };
  if (currentPlatform().name === 'express') app.use('/batch', cors(policy));
  else {
    app.enableCors((request: { url?: string }, callback: (e: null, o: object) => void) =>
      callback(null, (request.url ?? '').startsWith('/batch') ? policy : { origin: false }),
    );
  }
}

forEachPlatform((platform) => {
  describe('review: hostile endings', () => {
    const t = useTestApp({
      imports: [ReviewModule],
      strictValidation: false,
      configure,
      batch: { concurrency: 1, timeout: 60_000 },
    });

    describe('headers a page of another origin may not read, going out late', () => {
      it.each(['streamed', 'flush-then-end', 'destroyed'])(
        '%s: a CORS refusal, once',
        async (how) => {
          const response = await t.http
            .post('/batch')
            .set(FROM_PARTNER)
            .send({
              data: [
                { method: 'GET', url: `/late/${how}` },
                { method: 'GET', url: '/lengths/plain' },
              ],
            })
            .expect(200);
          const [entry, next] = entries(response);
          expect(entry).toMatchObject({ code: 403, body: { reason: 'cors' } });
          expect(JSON.stringify(entry)).not.toContain('secret');
          expect(response.headers['set-cookie']).toEqual([`late-${how}=1; Path=/`]);
          // The operation after it ran (one at a time): nothing was left hanging.
          expect(next?.code).toBe(403);
        },
      );
    });

    describe('a Content-Length of an odd spelling, as a client reads it', () => {
      /** Node's client and fetch() both fail on these before any header: a network error. */
      const INVALID = ['repeated, differing', 'plus', 'hex', 'negative', 'exponent', 'empty'];

      it.each(INVALID)('%s: dropped, as the direct client drops it', async (name) => {
        const path = `/lengths/${encodeURIComponent(name)}`;
        if (!platform.http2) {
          expect(await direct(baseOf(t), path)).toEqual({ kind: 'dropped-before-headers' });
          await expect(fetch(new URL(path, baseOf(t)))).rejects.toThrow();
        }
        const response = await t.http.post('/batch').send({ data: [{ method: 'GET', url: path }] });
        const [entry] = entries(response);
        expect(entry).toMatchObject({ code: 502, body: { reason: 'response-aborted' } });
        expect(entry?.body.message).toMatch(/Content-Length/);
        // Nothing of the headers reached a client: not even the status.
        expect(entry?.body.message).not.toMatch(/\(200\)/);
      });

      it('more digits than a client waits for: dropped after its headers', async () => {
        const path = '/lengths/sixteen%20digits';
        if (!platform.http2) {
          expect(await direct(baseOf(t), path)).toEqual({
            kind: 'dropped-after-headers',
            status: 200,
          });
        }
        const response = await t.http.post('/batch').send({ data: [{ method: 'GET', url: path }] });
        const [entry] = entries(response);
        expect(entry).toMatchObject({ code: 502, body: { reason: 'response-aborted' } });
      });

      it.each(['plain', 'leading space', 'trailing space', 'leading zeros'])(
        '%s: complete, as the direct client reads it',
        async (name) => {
          const path = `/lengths/${encodeURIComponent(name)}`;
          const seen = platform.http2 ? undefined : await direct(baseOf(t), path);
          if (seen) expect(seen).toEqual({ kind: 'complete', status: 200, body: BODY });
          const response = await t.http
            .post('/batch')
            .send({ data: [{ method: 'GET', url: path }] });
          const [entry] = entries(response);
          expect(entry).toMatchObject({ code: 200, body: BODY });
        },
      );
    });

    describe('a Content-Length beside Transfer-Encoding: chunked', () => {
      it.each(['raw', 'framework'])('%s: dropped, as the direct client drops it', async (how) => {
        const path = `/framing/${how}`;
        if (!platform.http2) {
          // Node's client and fetch() refuse the framing at the headers (browsers and curl
          // let Transfer-Encoding win): nothing of it reaches them.
          expect(await direct(baseOf(t), path)).toEqual({ kind: 'dropped-before-headers' });
          await expect(fetch(new URL(path, baseOf(t)))).rejects.toThrow();
        }
        const response = await t.http.post('/batch').send({ data: [{ method: 'GET', url: path }] });
        const [entry] = entries(response);
        expect(entry).toMatchObject({ code: 502, body: { reason: 'response-aborted' } });
        expect(entry?.body.message).toMatch(/Content-Length.*Transfer-Encoding/);
        expect(entry?.body.message).not.toMatch(/\(200\)/);
        expect(JSON.stringify(entry)).not.toContain(BODY);
        expect(response.headers['set-cookie']).toBeUndefined();
      });
    });

    describe('a decoded body, as a client decodes it', () => {
      it.each(Object.keys(ENCODED))('%s', async (name) => {
        const path = `/encoded/${encodeURIComponent(name)}`;
        const seen = Buffer.from(await (await fetch(new URL(path, baseOf(t)))).arrayBuffer());
        const response = await t.http.post('/batch').send({ data: [{ method: 'GET', url: path }] });
        const [entry] = entries(response);
        expect(entry?.code).toBe(200);
        expect(Buffer.from((entry?.body as string | undefined) ?? '', 'base64')).toEqual(seen);
      });
    });

    describe("an entry's body as the app wrote it, whatever else the response carries", () => {
      it.each(['no-cookie', 'with-cookie'])('%s', async (how) => {
        const response = await t.http
          .post('/batch')
          .send({ data: [{ method: 'GET', url: `/app-json/${how}` }] })
          .buffer(true)
          .parse(readText)
          .expect(200);
        expect(response.body as string).toContain(`"body":${APP_JSON}`);
      });
    });

    describe('a decoded base64 body, referenced and streamed', () => {
      const DATA = [
        { method: 'GET', url: '/encoded/small', name: 'bytes' },
        { method: 'GET', url: '/review-echo?value={result=bytes:$}' },
      ];

      it('is the base64 a later operation reads', async () => {
        const response = await t.http.post('/batch').send({ data: DATA }).expect(200);
        const [bytes, echo] = entries(response);
        expect(bytes?.body).toBe(SMALL.toString('base64'));
        expect(echo?.body).toEqual({ value: SMALL.toString('base64') });
      });

      it('is the same in an NDJSON reply', async () => {
        const response = await t.http
          .post('/batch')
          .set('accept', 'application/x-ndjson')
          .send({ data: [{ method: 'GET', url: '/encoded/gzip' }, ...DATA] })
          .buffer(true)
          .parse(readText)
          .expect(200);
        const lines = (response.body as string)
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line) as { index: number; body: unknown });
        const byIndex = new Map(lines.map((line) => [line.index, line.body]));
        expect(byIndex.get(0)).toBe(BINARY.toString('base64'));
        expect(byIndex.get(1)).toBe(SMALL.toString('base64'));
        expect(byIndex.get(2)).toEqual({ value: SMALL.toString('base64') });
      });
    });

    describe('maxResponseBytes, to the byte, on a body decoded in chunks', () => {
      it.each([
        [BINARY.length, 200],
        [BINARY.length - 1, 502],
      ])('a cap of %i bytes: %i', async (cap, code) => {
        await withTestApp(
          { imports: [ReviewModule], strictValidation: false, batch: { maxResponseBytes: cap } },
          async (other) => {
            const response = await other.http
              .post('/batch')
              .send({ data: [{ method: 'GET', url: '/encoded/gzip' }] })
              .expect(200);
            const [entry] = entries(response);
            expect(entry?.code).toBe(code);
            if (code === 200) expect(entry?.body).toBe(BINARY.toString('base64'));
            else expect(JSON.stringify(entry?.body)).toMatch(/maxResponseBytes/);
          },
        );
      });
    });

    describe("a decoded body's base64, in code's hands (BatchExecutor)", () => {
      const run = async (): Promise<BatchResult> => {
        const [entry] = await t.app
          .get(BatchExecutor)
          .execute([
            { method: 'GET', url: '/encoded/gzip', headers: { 'accept-encoding': 'gzip' } },
          ]);
        if (!entry) throw new Error('no entry');
        return entry;
      };
      const BASE64 = BINARY.toString('base64');

      it('is the base64 however the entry is copied or serialised', async () => {
        const entry = await run();
        expect({ ...entry }.body).toBe(BASE64);
        expect(structuredClone(entry).body).toBe(BASE64);
        expect((JSON.parse(JSON.stringify(entry)) as BatchResult).body).toBe(BASE64);
        expect(Object.assign({}, entry).body).toBe(BASE64);
        expect(entry).toEqual({ ...entry, body: BASE64 });
      });

      it('is shown by console.log and util.inspect, as any other body', async () => {
        const entry = await run();
        expect(inspect(entry, { maxStringLength: 8 })).toContain(`body: '${BASE64.slice(0, 8)}'`);
      });
    });
  });
});
