import fastifyMultipart from '@fastify/multipart';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createHash, randomBytes } from 'node:crypto';
import { FastifyUploadModule, MulterUploadModule } from './fixtures/upload.controllers.js';
import { forEachPlatform } from './utils/platforms.js';
import { entries, postBatch, sideEffects, useTestApp } from './utils/test-app.js';

/** A multipart/form-data body with one file and one field, as a browser or form-data writes it. */
function formData(boundary: string, file: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="blob.bin"\r\n` +
        'Content-Type: application/octet-stream\r\n\r\n',
    ),
    file,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
}

/** Binary request bodies in the native format. */
forEachPlatform((platform) => {
  const t = useTestApp({
    imports: [platform.name === 'express' ? MulterUploadModule : FastifyUploadModule],
    configure: (app) => {
      if (platform.name === 'fastify')
        void (app as NestFastifyApplication).register(fastifyMultipart);
    },
  });
  // Every byte value, so any re-encoding (UTF-8, latin1, a dropped CR) shows.
  const file = Buffer.concat([
    Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
    randomBytes(64),
  ]);
  const sha256 = createHash('sha256').update(file).digest('hex');

  it('delivers a file uploaded with bodyEncoding "base64" byte-identical, as the direct upload', async () => {
    const direct = await t.http
      .post('/upload')
      .field('note', 'hello')
      .attach('file', file, { filename: 'blob.bin', contentType: 'application/octet-stream' })
      .expect(200);
    expect(direct.body).toMatchObject({ size: file.length, sha256 });
    const boundary = 'upload-boundary';
    const reply = await postBatch(t, [
      {
        method: 'POST',
        url: '/upload',
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
        body: formData(boundary, file).toString('base64'),
        bodyEncoding: 'base64',
      },
    ]).expect(200);
    const [entry] = entries(reply);
    expect(entry?.code).toBe(200);
    expect(entry?.body).toEqual(direct.body);
  });

  it('sends base64 bytes as application/octet-stream when the operation names no Content-Type', async () => {
    const bytes = Buffer.from('{"a":1}');
    const direct = await t.http
      .post('/echo')
      .set('content-type', 'application/octet-stream')
      .send(bytes);
    const reply = await postBatch(t, [
      { method: 'POST', url: '/echo', body: bytes.toString('base64'), bodyEncoding: 'base64' },
    ]).expect(200);
    const [entry] = entries(reply);
    // Express echoes the headers; Fastify has no parser for the type, and answers 415 to both.
    expect(entry?.code).toBe(direct.status);
    expect(entry?.body?.headers?.['content-type']).toBe(direct.body?.headers?.['content-type']);
    expect(entry?.body?.headers?.['content-length']).toBe(direct.body?.headers?.['content-length']);
  });

  it.each([
    [
      'a body that is not base64',
      { body: 'not base64!', bodyEncoding: 'base64' },
      /data\.0\.body must be base64/,
    ],
    [
      'a body that is not a string',
      { body: { a: 1 }, bodyEncoding: 'base64' },
      /data\.0\.body must be a base64 string/,
    ],
    [
      'an unknown encoding',
      { body: 'aGk=', bodyEncoding: 'hex' },
      /data\.0\.bodyEncoding must be .{0,2}base64/,
    ],
  ])('refuses %s with 400 naming it; nothing runs', async (_name, fields, message) => {
    const reply = await postBatch(t, [{ method: 'POST', url: '/echo', ...fields }]).expect(400);
    expect(JSON.stringify(reply.body)).toMatch(message);
    expect(sideEffects(t)).toBe(0);
  });
});
