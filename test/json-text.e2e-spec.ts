import { BROKEN_JSON, JsonTextModule, PRETTY_JSON } from './fixtures/json-text.controller.js';
import fastifyCompress from '@fastify/compress';
import type { INestApplication } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import compression from 'compression';
import { currentPlatform, forEachPlatform } from './utils/platforms.js';
import { multipartBody, multipartParts, postRaw, rawRequest } from './utils/raw-http.js';
import { entries, postBatch, useTestApp } from './utils/test-app.js';

/** The entry body is the JSON text the app wrote, byte for byte, in every format. */
forEachPlatform(() => {
  const t = useTestApp({ imports: [JsonTextModule], batch: { maxReplyBytes: 64 * 1024 } });

  it('embeds the JSON text as the app wrote it in a native entry, and parses to the same value', async () => {
    const direct = await t.http.get('/json-text/pretty').expect(200);
    expect(direct.text).toBe(PRETTY_JSON);
    const reply = await postBatch(t, [{ method: 'GET', url: '/json-text/pretty' }]).expect(200);
    expect(reply.text).toContain(`"body":${PRETTY_JSON}`);
    expect(reply.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(Number(reply.headers['content-length'])).toBe(Buffer.byteLength(reply.text));
    expect(entries(reply)[0]?.body).toEqual(JSON.parse(PRETTY_JSON));
  });

  it('writes the same text on an NDJSON line, its line breaks as spaces', async () => {
    const reply = await postBatch(t, [{ method: 'GET', url: '/json-text/pretty' }], {
      accept: 'application/x-ndjson',
    }).expect(200);
    const [line] = reply.text.split('\n');
    expect(line).toContain(`"body":${PRETTY_JSON.replace(/\n/g, ' ')}`);
    expect(JSON.parse(line ?? '')).toMatchObject({ index: 0, body: JSON.parse(PRETTY_JSON) });
    expect(reply.text.split('\n').filter((text) => text !== '')).toHaveLength(1);
  });

  it('gives a body that claims JSON and is not in base64, the reply still valid JSON', async () => {
    const reply = await postBatch(t, [
      { method: 'GET', url: '/json-text/broken' },
      { method: 'GET', url: '/json-text/pretty' },
    ]).expect(200);
    expect(() => JSON.parse(reply.text) as unknown).not.toThrow();
    const [broken, pretty] = entries(reply);
    expect(broken).toMatchObject({ bodyEncoding: 'base64' });
    expect(Buffer.from(broken?.body as string, 'base64').toString('utf8')).toBe(BROKEN_JSON);
    expect(pretty?.body).toEqual(JSON.parse(PRETTY_JSON));
  });

  it('resolves a reference into the parsed value of the text', async () => {
    const reply = await postBatch(t, [
      { method: 'GET', url: '/json-text/pretty', name: 'p' },
      { method: 'GET', url: '/json-text/echo?value={result=p:$.big}-{result=p:$.a}' },
    ]).expect(200);
    expect(entries(reply)[1]?.body).toEqual({ value: '100-1' });
  });

  it('counts the text as written against maxReplyBytes', async () => {
    const reply = await postBatch(t, [
      { method: 'GET', url: '/json-text/padded?pad=40000' },
      { method: 'GET', url: '/json-text/padded?pad=40000' },
    ]).expect(200);
    const [first, second] = entries(reply);
    expect(first?.code).toBe(200);
    expect(second?.code).not.toBe(200);
    expect(Buffer.byteLength(reply.text)).toBeLessThan(64 * 1024);
  });

  it('keeps the text in a Graph response body and as the Facebook body string', async () => {
    const graph = await postRaw(
      t,
      JSON.stringify({ requests: [{ id: '1', method: 'GET', url: '/json-text/pretty' }] }),
      { 'content-type': 'application/json' },
    );
    expect(graph.text).toContain(`"body":${PRETTY_JSON}`);
    const facebook = await postRaw(
      t,
      JSON.stringify({ batch: [{ method: 'GET', relative_url: 'json-text/pretty' }] }),
      { 'content-type': 'application/json' },
    );
    expect((JSON.parse(facebook.text) as { body: string }[])[0]?.body).toBe(PRETTY_JSON);
  });

  it('writes the text as the part body of a multipart reply', async () => {
    const reply = await rawRequest(t, {
      headers: { 'content-type': 'multipart/mixed; boundary=b' },
      body: multipartBody('b', [{ http: 'GET /json-text/pretty HTTP/1.1\r\n' }]),
    });
    const [part] = multipartParts(reply.headers['content-type'], reply.body);
    expect(part?.body.toString('utf8')).toBe(PRETTY_JSON);
  });
});

/** A reply larger than one chunk: written in pieces, whole, with its length, compressed or not. */
forEachPlatform(() => {
  const batch = [
    { method: 'GET', url: '/json-text/pretty' },
    { method: 'GET', url: '/json-text/padded?pad=100000' },
    { method: 'GET', url: '/json-text/accented?pad=70000' },
    ...Array.from({ length: 30 }, () => ({ method: 'GET', url: '/json-text/padded?pad=3000' })),
  ];

  describe('as the app sends it', () => {
    const t = useTestApp({ imports: [JsonTextModule] });

    it('writes every piece, in order, with the Content-Length of the whole', async () => {
      const reply = await postBatch(t, batch).expect(200);
      expect(Number(reply.headers['content-length'])).toBe(Buffer.byteLength(reply.text));
      const all = entries(reply);
      expect(all.map((entry) => entry?.code)).toEqual(batch.map(() => 200));
      expect(reply.text).toContain(`"body":{"ok":true}${' '.repeat(100000)}}`);
      expect(all[2]?.body).toEqual({ word: 'café ✓' });
    });
  });

  describe('compressed by the app', () => {
    const t = useTestApp({
      imports: [JsonTextModule],
      configure: (app: INestApplication) => {
        if (currentPlatform().name === 'express') app.use(compression({ threshold: 0 }));
        else void (app as NestFastifyApplication).register(fastifyCompress, { threshold: 0 });
      },
    });

    it('is compressed whole', async () => {
      const reply = await postBatch(t, batch, { 'accept-encoding': 'gzip' }).expect(200);
      expect(reply.headers['content-encoding']).toBe('gzip');
      expect(entries(reply)).toHaveLength(batch.length);
    });
  });
});
