import { RequestMethod, VersioningType } from '@nestjs/common';
import { RouterModule } from '@nestjs/core';
import { BatchModule } from 'nestjs-batch';
import { createServer, type AddressInfo, type Server } from 'node:net';
import {
  createTestApp,
  entries,
  postBatch,
  sideEffects,
  useTestApp,
  withTestApp,
} from './utils/test-app.js';
import { forEachPlatform } from './utils/platforms.js';
import { postRaw } from './utils/raw-http.js';

forEachPlatform((platform) => {
  describe('@SkipBatch()', () => {
    const t = useTestApp();

    it('answers 403 for an operation on a controller marked @SkipBatch(), and its handler never runs', async () => {
      const response = await postBatch(t, [
        { method: 'GET', url: '/vault' },
        { method: 'GET', url: '/echo' },
      ]).expect(200);
      const [vault, echo] = entries(response);
      expect(vault?.code).toBe(403);
      expect(vault?.body).toMatchObject({
        statusCode: 403,
        message: 'This route cannot be reached from inside a batch',
      });
      expect(t.recorder.count('vault.read')).toBe(0);
      expect(echo?.code).toBe(200);
    });

    it('leaves the same route alone for a request of its own', async () => {
      await t.http.get('/vault').expect(200, { secret: 'only on its own' });
      expect(t.recorder.count('vault.read')).toBe(1);
    });

    it('lets a handler marked @SkipBatch(false) back in under a skipped class', async () => {
      const response = await postBatch(t, [{ method: 'GET', url: '/vault/public' }]).expect(200);
      expect(entries(response)[0]).toMatchObject({ code: 200, body: { public: true } });
      expect(t.recorder.count('vault.public')).toBe(1);
    });

    it('applies to one handler only when put on a handler', async () => {
      const response = await postBatch(t, [
        { method: 'POST', url: '/transfers', body: {} },
        { method: 'GET', url: '/transfers' },
      ]).expect(200);
      expect(entries(response).map((entry) => entry?.code)).toEqual([403, 200]);
      expect(t.recorder.count('transfers.create')).toBe(0);
      expect(t.recorder.count('transfers.list')).toBe(1);
    });
  });

  describe('the exclude option', () => {
    const t = useTestApp({
      batch: {
        exclude: [
          '/secret',
          { path: '/items/:id', method: 'DELETE' },
          { path: '/api-admin/*rest', method: [RequestMethod.POST, 'PUT'] },
        ],
      },
    });

    it.each(['/secret', '/SECRET', '/secret/', '/%73ecret', '/secret?x=1'])(
      'refuses %s with 403 before any of the app runs, middleware included',
      async (url) => {
        const response = await postBatch(t, [{ method: 'GET', url }]).expect(200);
        expect(entries(response)[0]).toMatchObject({
          code: 403,
          body: { message: expect.stringMatching(/cannot be run in a batch: GET .* is excluded/) },
        });
        expect(sideEffects(t)).toBe(0);
      },
    );

    it('matches methods: DELETE /items/1 is refused, GET /items/1 is not', async () => {
      const response = await postBatch(t, [
        { method: 'POST', url: '/items', body: { name: 'kept' }, name: 'create' },
        { method: 'DELETE', url: '/items/{result=create:$.id}', dependsOn: ['create'] },
        { method: 'GET', url: '/items/{result=create:$.id}', dependsOn: ['create'] },
      ]).expect(200);
      expect(entries(response).map((entry) => entry?.code)).toEqual([201, 403, 200]);
      expect(t.recorder.count('items.delete')).toBe(0);
    });

    it('checks the url after references are substituted', async () => {
      const response = await postBatch(t, [
        { method: 'POST', url: '/echo', body: { path: 'secret' }, name: 'where' },
        { method: 'GET', url: '/{result=where:$.body.path}', dependsOn: ['where'] },
      ]).expect(200);
      expect(entries(response)[1]?.code).toBe(403);
      expect(t.recorder.count('secret')).toBe(0);
    });

    it('leaves requests of their own alone', async () => {
      await t.http.get('/secret').set('authorization', 'Bearer good').expect(200);
      expect(t.recorder.count('secret')).toBe(1);
    });

    it('refuses a pattern it cannot read at bootstrap, naming the entry', async () => {
      await expect(createTestApp({ batch: { exclude: ['/ok', '/bad/:'] } })).rejects.toThrow(
        /exclude\[1\] "\/bad\/:" is not a route pattern/,
      );
    });
  });

  describe('nesting, whatever the path, prefix or version', () => {
    it('refuses the batch endpoint as an operation under a prefix, a custom path and versioning', async () => {
      const t = await createTestApp({
        batch: { path: 'multi' },
        configure: (app) => {
          app.setGlobalPrefix('api');
          app.enableVersioning({ type: VersioningType.URI, defaultVersion: '1' });
        },
      });
      try {
        const inner = { data: [{ method: 'POST', url: '/api/v1/items', body: { name: 'x' } }] };
        const response = await t.http
          .post('/api/multi')
          .send({
            data: [
              { method: 'POST', url: '/api/multi', body: inner },
              { method: 'POST', url: '/API/Multi/', body: inner },
              { method: 'GET', url: '/api/v1/echo' },
            ],
          })
          .expect(200);
        // Fastify matches routes case-sensitively: there `/API/Multi/` is no route at all.
        const upperCase = platform.name === 'express' ? 403 : 404;
        expect(entries(response).map((entry) => entry?.code)).toEqual([403, upperCase, 200]);
        expect(t.recorder.count('items.create')).toBe(0);
      } finally {
        await t.close();
      }
    });
  });

  describe('hostile urls: 400, nothing runs, nothing leaves the process', () => {
    const t = useTestApp();
    let outside: Server;
    let connections = 0;
    beforeAll(async () => {
      outside = createServer((socket) => {
        connections++;
        socket.destroy();
      });
      await new Promise<void>((resolve) => outside.listen(0, '127.0.0.1', resolve));
    });
    afterAll(() => new Promise((resolve) => outside.close(resolve)));

    const port = (): number => (outside.address() as AddressInfo).port;
    const cases: [string, () => string, RegExp][] = [
      ['an absolute url', () => `http://127.0.0.1:${port()}/echo`, /absolute URLs/],
      ['another scheme', () => 'file:///etc/passwd', /absolute URLs and other schemes/],
      ['a javascript: url', () => 'javascript:alert(1)', /absolute URLs/],
      ['a protocol-relative url', () => `//127.0.0.1:${port()}/echo`, /protocol-relative/],
      ['a backslash host', () => `/\\127.0.0.1:${port()}/echo`, /backslash/],
      ['a CRLF in the url', () => '/echo\r\nHost: evil.example', /control characters/],
      ['a space', () => '/echo now', /without spaces/],
      ['a non-ASCII character', () => '/échо', /percent-encode/],
      ['an encoded NUL', () => '/echo%00', /encodes a control character/],
      ['a fragment', () => '/echo#top', /fragment/],
      ['a malformed escape', () => '/echo%zz', /malformed percent-encoding/],
      ['a dot-dot segment', () => '/static/../../etc/passwd', /"\.\." path segments/],
      ['an encoded dot-dot', () => '/static/%2e%2e/%2E%2E/etc/passwd', /"\.\." path segments/],
      ['an encoded slash traversal', () => '/static/..%2f..%2fetc/passwd', /"\.\." path segments/],
      ['an encoded backslash traversal', () => '/static/..%5c..%5cwin.ini', /"\.\." path segments/],
    ];

    it.each(cases)('%s', async (_case, url, message) => {
      const response = await postBatch(t, [
        { method: 'GET', url: '/echo' },
        { method: 'GET', url: url() },
      ]).expect(400);
      expect((response.body as { message: string[] }).message.join('\n')).toMatch(
        new RegExp(`data\\.1\\.url .*${message.source}`),
      );
      expect(sideEffects(t)).toBe(0);
      expect(connections).toBe(0);
    });

    it("refuses a url that references turn into a traversal, as that operation's 400", async () => {
      const response = await postBatch(t, [
        { method: 'POST', url: '/echo', body: { up: '..' }, name: 'a' },
        { method: 'GET', url: '/static/{result=a:$.body.up}/secret', dependsOn: ['a'] },
      ]).expect(200);
      expect(entries(response)[1]).toMatchObject({
        code: 400,
        body: { message: expect.stringMatching(/"\.\." path segments.*after its references/) },
      });
    });

    it('still serves requests afterwards', async () => {
      await t.http.get('/echo').expect(200);
    });
  });

  describe('hostile headers', () => {
    const t = useTestApp();

    it.each([
      ['a CR in a value', { 'x-a': 'a\rb' }, /control character/],
      ['a LF in a value', { 'x-a': 'a\nx-injected: 1' }, /control character/],
      ['a NUL in a value', { 'x-a': 'a\u0000' }, /control character/],
      ['a LF in a name', { 'x-a\nx-b': 'v' }, /not a valid header name/],
      ['a space in a name', { 'x a': 'v' }, /not a valid header name/],
      ['host', { host: 'evil.example' }, /set by the batch endpoint/],
      ['content-length', { 'Content-Length': '5' }, /set by the batch endpoint/],
      ['transfer-encoding', { 'transfer-encoding': 'chunked' }, /set by the batch endpoint/],
      ['connection', { connection: 'upgrade' }, /set by the batch endpoint/],
      ['upgrade', { upgrade: 'websocket' }, /set by the batch endpoint/],
      [
        'more than a request may carry',
        { 'x-big': 'v'.repeat(17 * 1024) },
        /more than a request of its own/,
      ],
    ])('refuses %s with 400, nothing runs', async (_case, headers, message) => {
      const response = await postBatch(t, [{ method: 'GET', url: '/echo', headers }]).expect(400);
      expect((response.body as { message: string[] }).message.join('\n')).toMatch(message);
      expect(sideEffects(t)).toBe(0);
    });
  });

  describe('hostile bodies', () => {
    const t = useTestApp({ batch: { maxBodyBytes: 64 * 1024 } });

    it.each([
      ['a __proto__ key deep in a body', '{"a":[{"b":{"__proto__":{"polluted":true}}}]}'],
      ['a constructor.prototype', '{"constructor":{"prototype":{"polluted":true}}}'],
    ])('refuses %s with 400 and pollutes nothing', async (_case, json) => {
      const { status, text: body } = await postRaw(t, [
        `{"data":[{"method":"POST","url":"/echo","body":${json}}]}`,
      ]);
      expect(status).toBe(400);
      expect((JSON.parse(body) as { message: string[] }).message).toEqual([
        'the batch holds a "__proto__" key or a "constructor" key with a "prototype" inside; such keys are refused anywhere in a batch',
      ]);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(sideEffects(t)).toBe(0);
    });

    it('passes an ordinary "constructor" key through', async () => {
      const response = await postBatch(t, [
        { method: 'POST', url: '/echo', body: { constructor: 'Toyota' } },
      ]).expect(200);
      expect(entries(response)[0]?.body.body).toEqual({ constructor: 'Toyota' });
    });

    it('refuses a body nested 10,000 deep with 400, and keeps serving', async () => {
      const deep = '['.repeat(10_000) + ']'.repeat(10_000);
      const { status, text: body } = await postRaw(t, [
        `{"data":[{"method":"POST","url":"/echo","body":${deep}}]}`,
      ]);
      expect(status).toBe(400);
      expect(body).toMatch(/nested deeper than 256 levels/);
      expect(sideEffects(t)).toBe(0);
      await t.http.get('/echo').expect(200);
    });

    it('answers 413 from the Content-Length alone, before reading the body', async () => {
      const {
        status,
        headers,
        text: body,
        sentAll,
      } = await postRaw(
        t,
        ['{"data":['],
        { 'content-type': 'application/json', 'content-length': 10 * 1024 * 1024 },
        { end: false },
      );
      expect(sentAll).toBe(false);
      expect(status).toBe(413);
      expect(headers.connection).toBe('close');
      expect(JSON.parse(body)).toEqual({
        statusCode: 413,
        error: 'Payload Too Large',
        message: 'The batch body may be at most 65536 bytes (maxBodyBytes)',
        reason: 'body-too-large',
      });
      expect(sideEffects(t)).toBe(0);
    });

    it('answers 413 to a chunked body as soon as it passes the limit, before it ends', async () => {
      const huge = `{"data":[{"method":"POST","url":"/echo","body":"${'x'.repeat(100 * 1024)}"`;
      const { status, sentAll } = await postRaw(
        t,
        [huge],
        { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
        { end: false },
      );
      expect(sentAll).toBe(false);
      expect(status).toBe(413);
      expect(sideEffects(t)).toBe(0);
      await t.http.get('/echo').expect(200);
    });

    it('takes a body just under the limit', async () => {
      const text = 'x'.repeat(60 * 1024);
      const response = await postBatch(t, [
        { method: 'POST', url: '/echo', body: { text } },
      ]).expect(200);
      expect(entries(response)[0]?.body.body.text).toHaveLength(text.length);
    });

    it('refuses a compressed body with 415', async () => {
      const { status, text: body } = await postRaw(t, ['{}'], {
        'content-type': 'application/json',
        'content-encoding': 'gzip',
      });
      expect(status).toBe(415);
      expect(body).toMatch(/must not be compressed/);
    });

    it('refuses a charset other than UTF-8 with 415', async () => {
      const { status } = await postRaw(t, ['{}'], {
        'content-type': 'application/json; charset=latin1',
      });
      expect(status).toBe(415);
    });
  });

  describe('maxBodyBytes under a RouterModule path', () => {
    it('reads the body of /<module path>/batch itself: a chunked body over the limit is a 413', async () => {
      await withTestApp(
        {
          module: BatchModule.forRoot({ maxBodyBytes: 1024 }),
          imports: [RouterModule.register([{ path: 'v2', module: BatchModule }])],
        },
        async (t) => {
          const small = { data: [{ method: 'GET', url: '/echo' }] };
          await t.http.post('/v2/batch').send(small).expect(200);
          t.recorder.reset();
          const { status } = await postRaw(
            t,
            `{"data":[{"method":"POST","url":"/echo","body":"${'x'.repeat(2048)}"}]}`,
            { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
            { path: '/v2/batch' },
          );
          // The app's own JSON parser (100 kB) would have taken it: only the reader refuses it.
          expect(status).toBe(413);
          expect(t.recorder.count('echo')).toBe(0);
        },
      );
    });
  });

  describe('references never execute', () => {
    const t = useTestApp();

    it.each([
      ['a script expression', '$..[(globalThis.polluted = 1)]'],
      ['a filter expression', '$[?(@.id > 0)]'],
      ['an RFC filter with match()', '$[?match(@.name, "(a+)+$")]'],
    ])('refuses %s with 400 before anything runs', async (_case, path) => {
      const response = await postBatch(t, [
        { method: 'GET', url: '/echo', name: 'a' },
        { method: 'GET', url: `/echo?x={result=a:${path}}`, dependsOn: ['a'] },
      ]).expect(400);
      expect(JSON.stringify(response.body)).toMatch(/data\.1/);
      expect((globalThis as Record<string, unknown>).polluted).toBeUndefined();
      expect(sideEffects(t)).toBe(0);
    });
  });
});
