import fastifyCompress from '@fastify/compress';
import type { INestApplication } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import compression from 'compression';
import { EncodedModule } from './fixtures/encoded.controller.js';
import { currentPlatform, forEachPlatform } from './utils/platforms.js';
import { multipartBody, multipartParts, rawRequest } from './utils/raw-http.js';
import { entries, postBatch, useTestApp } from './utils/test-app.js';

/** The app compresses every response it can, as apps behind no proxy often do. */
function compressEverything(app: INestApplication): void {
  if (currentPlatform().name === 'express') app.use(compression({ threshold: 0 }));
  else void (app as NestFastifyApplication).register(fastifyCompress, { threshold: 0 });
}

/** An operation that asks the app for an encoded response itself. */
forEachPlatform(() => {
  const t = useTestApp({
    imports: [EncodedModule],
    configure: compressEverything,
    batch: { maxResponseBytes: 1024 * 1024 },
  });

  it.each(['gzip', 'deflate', 'br'])(
    'decodes a %s response: the entry holds the body the direct request would decode, and says it was decoded',
    async (encoding) => {
      await t.http.post('/items').send({ name: 'squeezed', qty: 3 }).expect(201);
      const direct = await t.http.get('/items').set('accept-encoding', encoding).expect(200);
      expect(direct.headers['content-encoding']).toBe(encoding);
      const reply = await postBatch(t, [
        { method: 'GET', url: '/items', headers: { 'accept-encoding': encoding } },
        { method: 'GET', url: '/text', headers: { 'accept-encoding': encoding } },
      ]).expect(200);
      const [items, text] = entries(reply);
      expect(items?.code).toBe(200);
      expect(items?.body).toEqual(direct.body);
      expect(items?.headers).not.toHaveProperty('content-encoding');
      expect(items?.bodyEncoding).toBeUndefined();
      expect(items).toMatchObject({ decodedContentEncoding: encoding });
      expect(text?.body).toBe('plain words');
    },
  );

  it('writes a decoded body with its own Content-Length in a multipart reply', async () => {
    const body = multipartBody('b', [
      { http: 'GET /text HTTP/1.1\r\nAccept-Encoding: gzip, deflate\r\n' },
    ]);
    const reply = await rawRequest(t, {
      headers: { 'content-type': 'multipart/mixed; boundary=b' },
      body,
    });
    const [part] = multipartParts(reply.headers['content-type'], reply.body);
    expect(part?.headers).not.toHaveProperty('content-encoding');
    expect(part?.body.toString('utf8')).toBe('plain words');
    expect(part?.headers['content-length']).toBe('11');
  });

  it('answers 502 for a body that passes maxResponseBytes once decoded, naming the cap', async () => {
    // 'too-large' comes only from zlib's maxOutputLength, which stops the decoding at the cap
    // (content-encoding.decoder.spec.ts); what a bomb costs the event loop is the bench's
    // (npm run bench:hostile, scenarios 10 and 11).
    const reply = await postBatch(t, [
      { method: 'GET', url: '/encoded/bomb', headers: { 'accept-encoding': 'gzip' } },
    ]).expect(200);
    const [entry] = entries(reply);
    expect(entry?.code).toBe(502);
    expect(JSON.stringify(entry?.body)).toMatch(/maxResponseBytes/);
  });

  it.each([
    ['a corrupt gzip body', '/encoded/corrupt', 'gzip'],
    ['an encoding it does not decode', '/encoded/unknown', 'x-custom'],
  ])('carries %s as base64 bytes, with its content-encoding', async (_name, url, encoding) => {
    const direct = await rawRequest(t, { method: 'GET', path: url });
    const reply = await postBatch(t, [{ method: 'GET', url }]).expect(200);
    const [entry] = entries(reply);
    expect(entry?.headers['content-encoding']).toBe(encoding);
    expect(entry?.bodyEncoding).toBe('base64');
    expect(Buffer.from(String(entry?.body), 'base64')).toEqual(direct.body);
  });
});
