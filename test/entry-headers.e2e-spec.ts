import { Controller, Get, Module, Res } from '@nestjs/common';
import { BATCH_OPTION_DEFAULTS, ENTRY_HEADERS_DROPPED } from 'nestjs-batch';
import { forEachPlatform } from './utils/platforms.js';
import { entries, useTestApp, type Entry } from './utils/test-app.js';
import { readText } from './utils/raw-http.js';
import { nodeResponseOf } from './utils/node-response.js';

/** Headers of every kind: what clients use, and what means nothing inside an entry. */
@Controller('headers')
class HeadersController {
  @Get('rich')
  rich(@Res() reply: object): void {
    const response = nodeResponseOf(reply);
    response.setHeader('content-type', 'application/json; charset=utf-8');
    response.setHeader('etag', 'W/"abc"');
    response.setHeader('location', '/headers/rich/1');
    response.setHeader('cache-control', 'max-age=60');
    response.setHeader('set-cookie', ['a=1; Path=/']);
    response.setHeader('x-ratelimit-remaining', '9');
    response.setHeader('ratelimit-policy', '10;w=60');
    response.setHeader('vary', 'accept');
    response.setHeader('x-app', 'kept');
    response.setHeader('x-powered-by', 'Fixture');
    response.setHeader('date', 'Tue, 01 Dec 2026 00:00:00 GMT');
    response.setHeader('proxy-connection', 'keep-alive');
    response.setHeader('content-length', '11');
    response.end('{"ok":true}');
  }
}

@Module({ controllers: [HeadersController] })
class HeadersModule {}

const KEPT = [
  'content-type',
  'etag',
  'location',
  'cache-control',
  'x-ratelimit-remaining',
  'ratelimit-policy',
  'vary',
  'x-app',
];
/** Dropped by the default policy (`keep-alive` never reaches an entry: the capture drops it). */
const DROPPED = ['x-powered-by', 'date', 'proxy-connection', 'content-length'];

forEachPlatform(() => {
  describe('entry headers: what an entry carries of its response headers', () => {
    describe('by default', () => {
      const t = useTestApp({ imports: [HeadersModule] });

      it('drops what means nothing inside an entry and keeps what clients use', async () => {
        const response = await t.http
          .post('/batch')
          .send({ data: [{ method: 'GET', url: '/headers/rich' }] })
          .expect(200);
        const [entry] = entries(response);
        for (const name of KEPT)
          expect([name, entry?.headers[name]]).toEqual([name, expect.anything()]);
        for (const name of DROPPED) expect([name, entry?.headers[name]]).toEqual([name, undefined]);
        expect(entry?.body).toEqual({ ok: true });
        // The cookie reaches the batch reply, never the entry.
        expect(entry?.headers['set-cookie']).toBeUndefined();
        expect(response.headers['set-cookie']).toEqual(['a=1; Path=/']);
      });

      it('drops exactly the documented names: the keep-all policy differs by those alone', async () => {
        const data = [
          { method: 'GET', url: '/headers/rich' },
          { method: 'GET', url: '/text' },
          { method: 'GET', url: '/binary' },
          { method: 'GET', url: '/cookie' },
          { method: 'GET', url: '/nowhere' },
        ];
        const all = entries(
          await t.http.post('/batch?entryHeaders=all').send({ data }).expect(200),
        );
        const essential = entries(await t.http.post('/batch').send({ data }).expect(200));
        all.forEach((full, i) => {
          const kept = essential[i] as Entry;
          const dropped = Object.keys((full as Entry).headers).filter(
            (name) => !(name in kept.headers),
          );
          for (const name of dropped) expect(ENTRY_HEADERS_DROPPED).toContain(name);
          for (const name of Object.keys(kept.headers)) {
            expect([name, kept.headers[name]]).toEqual([name, (full as Entry).headers[name]]);
          }
        });
        expect(Object.keys((all[0] as Entry).headers)).toEqual(expect.arrayContaining(DROPPED));
      });

      it("keeps a HEAD answer's content-length: there is no body it could contradict", async () => {
        const [entry] = entries(
          await t.http
            .post('/batch')
            .send({ data: [{ method: 'HEAD', url: '/headers/rich' }] })
            .expect(200),
        );
        expect(entry?.headers['content-length']).toBe('11');
        expect(entry?.headers['x-powered-by']).toBeUndefined();
      });

      it('refuses an unknown policy in the query with a 400 naming it', async () => {
        const response = await t.http
          .post('/batch?entryHeaders=some')
          .send({ data: [{ method: 'GET', url: '/headers/rich' }] })
          .expect(400);
        expect(JSON.stringify(response.body)).toContain('entryHeaders');
        expect((response.body as { message: string[] }).message).toEqual([
          'the query parameter entryHeaders must be given once, as "essential" or "all"',
        ]);
      });

      it('applies to every format: Facebook, Graph, multipart and NDJSON', async () => {
        const facebook = await t.http
          .post('/batch')
          .send({ batch: [{ method: 'GET', relative_url: 'headers/rich' }] })
          .expect(200);
        const fbNames = (
          (facebook.body as { headers: { name: string }[] }[])[0]?.headers ?? []
        ).map((h) => h.name.toLowerCase());
        expect(fbNames).toContain('etag');
        expect(fbNames).not.toContain('x-powered-by');
        expect(fbNames).not.toContain('content-length');

        const graph = await t.http
          .post('/batch')
          .send({ requests: [{ id: '1', method: 'GET', url: '/headers/rich' }] })
          .expect(200);
        const graphHeaders = Object.fromEntries(
          Object.entries(
            (graph.body as { responses: { headers: object }[] }).responses[0]?.headers ?? {},
          ).map(([name, value]) => [name.toLowerCase(), value as string]),
        );
        expect(graphHeaders.etag).toBe('W/"abc"');
        expect(graphHeaders['x-powered-by']).toBeUndefined();
        expect(graphHeaders.date).toBeUndefined();

        const boundary = 'b0undary';
        const multipart = await t.http
          .post('/batch')
          .set('content-type', `multipart/mixed; boundary=${boundary}`)
          .send(
            `--${boundary}\r\nContent-Type: application/http\r\n\r\nGET /headers/rich HTTP/1.1\r\n\r\n\r\n--${boundary}--\r\n`,
          )
          .buffer(true)
          .parse(readText)
          .expect(200);
        const part = String(multipart.body);
        expect(part).toMatch(/etag: W\/"abc"/i);
        expect(part).not.toMatch(/x-powered-by/i);
        expect(part).not.toMatch(/^date:/im);

        const ndjson = await t.http
          .post('/batch')
          .set('accept', 'application/x-ndjson')
          .send({ data: [{ method: 'GET', url: '/headers/rich' }] })
          .buffer(true)
          .parse(readText)
          .expect(200);
        const line = JSON.parse(String(ndjson.body).trim().split('\n')[0] ?? '') as Entry;
        expect(line.headers.etag).toBe('W/"abc"');
        expect(line.headers['x-powered-by']).toBeUndefined();
      });
    });

    describe("with entryHeaders: 'all'", () => {
      const t = useTestApp({ imports: [HeadersModule], batch: { entryHeaders: 'all' } });

      it('keeps every response header, as before the policy, unless the request asks for less', async () => {
        const data = [{ method: 'GET', url: '/headers/rich' }];
        const [entry] = entries(await t.http.post('/batch').send({ data }).expect(200));
        for (const name of [...KEPT, ...DROPPED]) {
          expect([name, entry?.headers[name]]).toEqual([name, expect.anything()]);
        }
        const [less] = entries(
          await t.http.post('/batch?entryHeaders=essential').send({ data }).expect(200),
        );
        expect(less?.headers['x-powered-by']).toBeUndefined();
      });
    });

    it("defaults to 'essential'", () => {
      expect(BATCH_OPTION_DEFAULTS.entryHeaders).toBe('essential');
    });
  });
});
