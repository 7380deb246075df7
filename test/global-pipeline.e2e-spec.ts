import { CacheInterceptor, CacheModule } from '@nestjs/cache-manager';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { Module } from '@nestjs/common';
import type { Response } from 'supertest';
import { GlobalPipelineModule } from './fixtures/global-pipeline.fixtures.js';
import { forEachPlatform } from './utils/platforms.js';
import { useTestApp, type TestApp } from './utils/test-app.js';
import { readText } from './utils/raw-http.js';

/** CacheInterceptor as apps register it: app-wide, over an in-memory store. */
@Module({
  imports: [CacheModule.register()],
  providers: [{ provide: APP_INTERCEPTOR, useClass: CacheInterceptor }],
})
class CachedAppModule {}

/** What every operation answers through the app's interceptors: serialised, then wrapped. */
const account = (id: number) => ({ data: { id } });

/** Reads a reply as text whatever its type, so nothing is parsed that the client would not. */
function asText(request: ReturnType<TestApp['http']['post']>) {
  return request.buffer(true).parse(readText);
}

/** Three operations in a row, each within the app's timeout, together past it. */
const chain = [
  { method: 'GET', url: '/pipeline/slowish/1', name: 'one' },
  { method: 'GET', url: '/pipeline/slowish/2', name: 'two', dependsOn: ['one'] },
  { method: 'GET', url: '/pipeline/account/3', dependsOn: ['two'] },
];

forEachPlatform(() => {
  describe('global interceptors (transform, serializer, timeout, observing) and the batch reply', () => {
    const t = useTestApp({ imports: [GlobalPipelineModule] });

    function expectObserved(response: Response): void {
      // The observing interceptor saw the batch request itself and could set its header.
      expect(t.recorder.count('timing POST /batch')).toBe(1);
      expect(response.headers['x-response-time']).toMatch(/^\d+ms$/);
    }

    it('native JSON: the envelope is exactly {"data": [...]}, each entry run through them', async () => {
      const response = await t.http.post('/batch').send({ data: chain }).expect(200);
      expect(Object.keys(response.body as object)).toEqual(['data']);
      const { data } = response.body as { data: { code: number; body: unknown }[] };
      expect(data.map((entry) => [entry.code, entry.body])).toEqual([
        [200, account(1)],
        [200, account(2)],
        [200, account(3)],
      ]);
      expectObserved(response);
      // Each operation went through the observing interceptor too.
      expect(t.recorder.count('timing GET /pipeline/account/3')).toBe(1);
    });

    it('Microsoft Graph: the envelope is exactly {"responses": [...]}', async () => {
      const response = await t.http
        .post('/batch')
        .send({
          requests: [
            { id: 'a', method: 'GET', url: '/pipeline/slowish/1' },
            { id: 'b', method: 'GET', url: '/pipeline/slowish/2', dependsOn: ['a'] },
            { id: 'c', method: 'GET', url: '/pipeline/account/3', dependsOn: ['b'] },
          ],
        })
        .expect(200);
      expect(Object.keys(response.body as object)).toEqual(['responses']);
      const { responses } = response.body as {
        responses: { id: string; status: number; body: unknown }[];
      };
      expect(responses.map((entry) => [entry.id, entry.status, entry.body])).toEqual([
        ['a', 200, account(1)],
        ['b', 200, account(2)],
        ['c', 200, account(3)],
      ]);
      expectObserved(response);
    });

    it.each([
      [
        'JSON',
        (t: TestApp) =>
          t.http.post('/batch').send({
            batch: [
              { method: 'GET', relative_url: 'pipeline/slowish/1' },
              { method: 'GET', relative_url: 'pipeline/account/2' },
            ],
          }),
      ],
      [
        'a form',
        (t: TestApp) =>
          t.http
            .post('/batch')
            .type('form')
            .send(
              `batch=${encodeURIComponent(
                JSON.stringify([
                  { method: 'GET', relative_url: 'pipeline/slowish/1' },
                  { method: 'GET', relative_url: 'pipeline/account/2' },
                ]),
              )}`,
            ),
      ],
    ])('Facebook as %s: the envelope is exactly the bare array of entries', async (_, send) => {
      const response = await send(t).expect(200);
      expect(Array.isArray(response.body)).toBe(true);
      const entries = response.body as { code: number; body: string }[];
      expect(entries.map((entry) => [entry.code, JSON.parse(entry.body) as unknown])).toEqual([
        [200, account(1)],
        [200, account(2)],
      ]);
      expectObserved(response);
    });

    it('multipart/mixed: the reply is the multipart body, a part per operation', async () => {
      const body = [
        '--b',
        'Content-Type: application/http',
        'Content-ID: 1',
        '',
        'GET /pipeline/slowish/1 HTTP/1.1',
        '',
        '--b',
        'Content-Type: application/http',
        'Content-ID: 2',
        '',
        'GET /pipeline/account/2 HTTP/1.1',
        '',
        '--b--',
        '',
      ].join('\r\n');
      const response = await asText(
        t.http.post('/batch').set('content-type', 'multipart/mixed; boundary=b').send(body),
      ).expect(200);
      expect(response.headers['content-type']).toMatch(/^multipart\/mixed; boundary=/);
      const text = response.body as string;
      expect(text.startsWith('--')).toBe(true);
      expect(text).toContain('Content-ID: 1\r\n');
      expect(text).toContain(JSON.stringify(account(1)));
      expect(text).toContain(JSON.stringify(account(2)));
      expectObserved(response);
    });

    it('NDJSON: a line per operation, not a JSON dump of the stream', async () => {
      const response = await asText(
        t.http.post('/batch').set('accept', 'application/x-ndjson').send({ data: chain }),
      ).expect(200);
      expect(response.headers['content-type']).toMatch(/^application\/x-ndjson/);
      const lines = (response.body as string)
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as { index: number; code: number; body: unknown });
      expect(lines.map((line) => [line.index, line.code, line.body])).toEqual([
        [0, 200, account(1)],
        [1, 200, account(2)],
        [2, 200, account(3)],
      ]);
      expectObserved(response);
    });

    it('the timeout interceptor still holds each operation to its limit: a 408 entry', async () => {
      const response = await t.http
        .post('/batch')
        .send({
          data: [
            { method: 'GET', url: '/pipeline/too-slow' },
            { method: 'GET', url: '/pipeline/account/1' },
          ],
        })
        .expect(200);
      expect(Object.keys(response.body as object)).toEqual(['data']);
      const { data } = response.body as { data: { code: number; body: unknown }[] };
      expect(data.map((entry) => entry.code)).toEqual([408, 200]);
      expect(data[1]?.body).toEqual(account(1));
    });
  });

  describe('CacheInterceptor app-wide, with the interceptors above', () => {
    const t = useTestApp({ imports: [GlobalPipelineModule, CachedAppModule] });

    it('CacheInterceptor caches operations as it caches direct GETs, and never the batch', async () => {
      const direct = await t.http.get('/pipeline/account/7').expect(200);
      expect(direct.body).toEqual(account(7));
      const batch = [{ method: 'GET', url: '/pipeline/account/7' }];
      const first = await t.http.post('/batch').send({ data: batch }).expect(200);
      const second = await t.http
        .post('/batch')
        .send({ data: [...batch, { method: 'GET', url: '/pipeline/account/8' }] })
        .expect(200);
      const bodies = (response: Response) =>
        (response.body as { data: { body: unknown }[] }).data.map((entry) => entry.body);
      expect(bodies(first)).toEqual([account(7)]);
      // Not the first batch's reply from cache: a second reply with its own entries.
      expect(bodies(second)).toEqual([account(7), account(8)]);
    });
  });
});
