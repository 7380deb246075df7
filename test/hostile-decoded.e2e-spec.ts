import { Controller, Get, Module, Query, Res } from '@nestjs/common';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { forEachPlatform } from './utils/platforms.js';
import { entries, postBatch, useTestApp, type Entry } from './utils/test-app.js';
import { nodeResponseOf } from './utils/node-response.js';

const MiB = 1024 * 1024;

const gzipped = new Map<number, Buffer>();
/** `mb` MiB of NUL bytes, gzipped once (a few KiB), as a compressed store would serve them. */
function nulGzip(mb: number): Buffer {
  let body = gzipped.get(mb);
  if (!body) gzipped.set(mb, (body = gzipSync(Buffer.alloc(mb * MiB))));
  return body;
}

let brotliBomb: Buffer | undefined;

/** Bodies that decode or escape to far more than they take on the wire. */
@Controller('bomb')
class BombController {
  /** JSON by its type, NUL bytes in fact: it does not parse, and each NUL escapes to 6 bytes. */
  @Get('gz')
  gz(@Query('mb') mb: string, @Res() reply: object): void {
    const body = nulGzip(Number(mb));
    nodeResponseOf(reply)
      .writeHead(200, {
        'content-type': 'application/json; charset=utf-8',
        'content-encoding': 'gzip',
        'content-length': body.length,
      })
      .end(body);
  }

  /** Text by its type, control bytes in fact. */
  @Get('text')
  text(@Query('kb') kb: string, @Res() reply: object): void {
    const body = Buffer.alloc(Number(kb) * 1024, 1);
    nodeResponseOf(reply).writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(body);
  }

  /** Valid JSON that the entry writes back 4.4 times larger: `1e20` is 100000000000000000000. */
  @Get('numbers')
  numbers(@Query('n') n: string, @Res() reply: object): void {
    const body = `[${Array<string>(Number(n)).fill('1e20').join(',')}]`;
    nodeResponseOf(reply).writeHead(200, { 'content-type': 'application/json' }).end(body);
  }

  /** 256 MiB of zeros in a few hundred bytes of brotli. */
  @Get('br')
  br(@Res() reply: object): void {
    brotliBomb ??= brotliCompressSync(Buffer.alloc(256 * MiB), {
      params: { [constants.BROTLI_PARAM_QUALITY]: 4 },
    });
    nodeResponseOf(reply)
      .writeHead(200, { 'content-type': 'application/octet-stream', 'content-encoding': 'br' })
      .end(brotliBomb);
  }
}

@Module({ controllers: [BombController] })
class BombModule {}

const gz = (mb: number) => ({
  method: 'GET',
  url: `/bomb/gz?mb=${mb}`,
  headers: { 'accept-encoding': 'gzip' },
});

function codesOf(list: (Entry | null)[]): number[] {
  return list.map((entry) => entry?.code ?? 0).sort((a, b) => a - b);
}

forEachPlatform(() => {
  describe('decoded bodies are held to the caps as they are written', () => {
    const t = useTestApp({
      imports: [BombModule],
      batch: { maxReplyBytes: 8 * MiB, maxResponseBytes: 5 * MiB },
    });

    it('writes a JSON-typed body that does not parse, NUL bytes, as base64, not 6x as escaped text', async () => {
      const response = await postBatch(t, [gz(1)]).expect(200);
      const [entry] = entries(response);
      expect(entry?.code).toBe(200);
      expect((entry as { decodedContentEncoding?: string } | null)?.decodedContentEncoding).toBe(
        'gzip',
      );
      expect(entry?.bodyEncoding).toBe('base64');
      expect(Buffer.from(entry?.body as string, 'base64').equals(Buffer.alloc(MiB))).toBe(true);
    });

    it('keeps a reply of 50 x 4 MiB of gzipped NULs within maxReplyBytes as written', async () => {
      const response = await postBatch(
        t,
        Array.from({ length: 50 }, () => gz(4)),
      ).expect(200);
      const list = entries(response);
      // 4 MiB is 5.3 MiB in base64: one fits in 8 MiB, and the rest are left out.
      expect(codesOf(list)).toEqual([200, ...Array<number>(49).fill(502)]);
      expect(Buffer.byteLength(JSON.stringify(response.body))).toBeLessThan(8 * MiB);
    });

    it('writes a text body of control bytes as base64', async () => {
      const [entry] = entries(
        await postBatch(t, [{ method: 'GET', url: '/bomb/text?kb=64' }]).expect(200),
      );
      expect(entry?.bodyEncoding).toBe('base64');
      expect(Buffer.from(entry?.body as string, 'base64').equals(Buffer.alloc(64 * 1024, 1))).toBe(
        true,
      );
    });

    it('keeps ordinary text as text', async () => {
      const [entry] = entries(await postBatch(t, [{ method: 'GET', url: '/text' }]).expect(200));
      expect(typeof entry?.body).toBe('string');
      expect(entry?.bodyEncoding).toBeUndefined();
    });

    it('answers 502 for the brotli bomb at maxResponseBytes', async () => {
      const [entry] = entries(
        await postBatch(t, [
          { method: 'GET', url: '/bomb/br', headers: { 'accept-encoding': 'br' } },
        ]).expect(200),
      );
      expect(entry?.code).toBe(502);
      expect(entry?.body).toMatchObject({ reason: 'response-too-large' });
    });
  });

  describe("maxReplyBytes counts a JSON body as the entry writes it: the app's text", () => {
    const t = useTestApp({ imports: [BombModule], batch: { maxReplyBytes: 100_000 } });

    it('keeps a response of 50 kB written as its 50 kB, not as the 220 kB its numbers spell in full', async () => {
      // 10,000 x `1e20,`: the entry carries the text, not `100000000000000000000,` each.
      const reply = await postBatch(t, [{ method: 'GET', url: '/bomb/numbers?n=10000' }]).expect(
        200,
      );
      const [entry] = entries(reply);
      expect(entry?.code).toBe(200);
      expect(reply.text).toContain('1e20,1e20');
      expect(Buffer.byteLength(reply.text)).toBeLessThan(100_000);
    });

    it('leaves out a response whose text passes the cap', async () => {
      const [entry] = entries(
        await postBatch(t, [{ method: 'GET', url: '/bomb/numbers?n=30000' }]).expect(200),
      );
      expect(entry?.code).toBe(502);
      expect(entry?.body).toMatchObject({ reason: 'reply-too-large' });
    });

    it('keeps one that fits as written', async () => {
      const [entry] = entries(
        await postBatch(t, [{ method: 'GET', url: '/bomb/numbers?n=1000' }]).expect(200),
      );
      expect(entry?.code).toBe(200);
      expect(entry?.body).toHaveLength(1000);
    });
  });
});
