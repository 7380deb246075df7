import compression from 'compression';
import { gunzipSync } from 'node:zlib';
import { GlobalPipelineModule } from './fixtures/global-pipeline.fixtures.js';
import { forEachPlatform } from './utils/platforms.js';
import { useTestApp } from './utils/test-app.js';

forEachPlatform(() => {
  describe('compression mounted app-wide, with the global interceptors', () => {
    const t = useTestApp({
      imports: [GlobalPipelineModule],
      // threshold 0: the small replies here are compressed too.
      configure: (app) => app.use(compression({ threshold: 0 })),
    });

    it('compresses the batch reply, whose envelope is still its own; entries come uncompressed', async () => {
      const response = await t.http
        .post('/batch')
        .set('accept-encoding', 'gzip')
        .send({ data: [{ method: 'GET', url: '/pipeline/account/1' }] })
        .buffer(true)
        .parse((res, done) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => done(null, Buffer.concat(chunks)));
        })
        .expect(200);
      expect(response.headers['content-encoding']).toBe('gzip');
      // superagent leaves a gzip body to the parser given: decoded here, it is the envelope.
      const raw = response.body as Buffer;
      const text = (raw[0] === 0x1f ? gunzipSync(raw) : raw).toString('utf8');
      const reply = JSON.parse(text) as { data: { code: number; body: unknown }[] };
      expect(Object.keys(reply)).toEqual(['data']);
      expect(reply.data[0]).toMatchObject({ code: 200, body: { data: { id: 1 } } });
    });

    it('compresses an operation that asks for it, as a direct request; its entry holds the decoded body', async () => {
      const response = await t.http
        .post('/batch')
        .send({
          data: [
            { method: 'GET', url: '/pipeline/account/2', headers: { 'accept-encoding': 'gzip' } },
          ],
        })
        .expect(200);
      const [entry] = (
        response.body as {
          data: {
            headers: Record<string, unknown>;
            body: unknown;
            decodedContentEncoding?: string;
          }[];
        }
      ).data;
      // The app did compress it (see docs/formats.md): the entry says so, and carries it decoded.
      expect(entry?.decodedContentEncoding).toBe('gzip');
      expect(entry?.headers).not.toHaveProperty('content-encoding');
      expect(entry?.body).toEqual({ data: { id: 2 } });
    });
  });
});
