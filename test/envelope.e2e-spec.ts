import {
  createTestApp,
  entries,
  postBatch,
  sideEffects,
  type TestApp,
  withTestApp,
} from './utils/test-app.js';
import { forEachPlatform } from './utils/platforms.js';

forEachPlatform(() => {
  const ok = { method: 'GET', url: '/echo' };

  /** Envelopes that must be refused whole, with the words the message must hold. */
  const malformed: [string, unknown, RegExp][] = [
    ['an empty object', {}, /accepts: \{"data": \[operations\]\} as application\/json; /],
    ['a bare array', [ok], /accepts: .*multipart\/mixed/],
    ['data as an object', { data: { 0: ok } }, /data must be an array/],
    ['no operations', { data: [] }, /at least one operation/],
    ['a number as operation', { data: [ok, 7] }, /data\.1 must be an object/],
    ['null as operation', { data: [null] }, /data\.0 must be an object/],
    [
      'an unknown method',
      { data: [ok, { method: 'BREW', url: '/x' }] },
      /data\.1\.method must be one of/,
    ],
    ['no method', { data: [{ url: '/echo' }] }, /data\.0\.method must be one of/],
    ['no url', { data: [{ method: 'GET' }] }, /data\.0\.url must be a string/],
    [
      'an absolute url',
      { data: [{ method: 'GET', url: 'http://evil.example/' }] },
      /data\.0\.url must be a path of this app starting with "\/" \(absolute URLs/,
    ],
    ['a numeric url', { data: [{ method: 'GET', url: 5 }] }, /data\.0\.url must be a string/],
    [
      'a name with a colon',
      { data: [{ ...ok, name: 'a:b' }] },
      /data\.0\.name must be 1-128 characters/,
    ],
    [
      'dependsOn as a string',
      { data: [{ ...ok, dependsOn: 'a' }] },
      /data\.0\.dependsOn must be an array/,
    ],
    ['a misspelt field', { data: [{ ...ok, bdy: {} }] }, /data\.0\.property bdy should not exist/],
    [
      'a misspelt field, with the field it is likely a typo of',
      { data: [{ ...ok, dependOn: ['a'] }] },
      /data\.0\.property dependOn should not exist; did you mean "dependsOn"\?/,
    ],
    [
      'omitResponseOnSuccess as text',
      { data: [{ ...ok, omitResponseOnSuccess: 'yes' }] },
      /data\.0\.omitResponseOnSuccess must be a boolean/,
    ],
    [
      'headers as a string',
      { data: [{ ...ok, headers: 'a: b' }] },
      /data\.0\.headers must be an object or an array/,
    ],
    [
      'a header value that is not text',
      { data: [{ ...ok, headers: { 'x-n': 1 } }] },
      /header "x-n" must be a string/,
    ],
    [
      'a header array entry without name',
      { data: [{ ...ok, headers: [{ value: 'v' }] }] },
      /data\.0\.headers\.0 must be an object \{ "name"/,
    ],
    [
      'CRLF in a header value',
      { data: [{ ...ok, headers: { 'x-a': 'v\r\nx-evil: 1' } }] },
      /holds a control character/,
    ],
    [
      'NUL in a header value',
      { data: [{ ...ok, headers: { 'x-a': 'v\u0000' } }] },
      /holds a control character/,
    ],
    [
      'a space in a header name',
      { data: [{ ...ok, headers: { 'x a': 'v' } }] },
      /"x a" is not a valid header name/,
    ],
    [
      'a __proto__ header',
      { data: [{ ...ok, headers: JSON.parse('{"__proto__": "v"}') as object }] },
      /the batch holds a "__proto__" key/,
    ],
    [
      'a host override',
      { data: [{ ...ok, headers: { Host: 'evil.example' } }] },
      /header "Host" is set by the batch endpoint/,
    ],
    [
      'a content-length override',
      { data: [{ ...ok, headers: { 'content-length': '1' } }] },
      /header "content-length" is set by the batch endpoint/,
    ],
    [
      'a transfer-encoding override',
      { data: [{ ...ok, headers: { 'transfer-encoding': 'chunked' } }] },
      /header "transfer-encoding"/,
    ],
    [
      'a connection header',
      { data: [{ ...ok, headers: [{ name: 'Connection', value: 'close' }] }] },
      /header "Connection"/,
    ],
    [
      'a duplicate name',
      {
        data: [
          { ...ok, name: 'a' },
          { ...ok, name: 'a' },
        ],
      },
      /operations 0 and 1 share the name "a"/,
    ],
    [
      'an unknown dependency',
      { data: [{ ...ok, dependsOn: ['ghost'] }] },
      /operation 0 depends on unknown operation "ghost"/,
    ],
    [
      'a self-dependency',
      { data: [{ ...ok, name: 'a', dependsOn: ['a'] }] },
      /operation 0 \("a"\) depends on itself/,
    ],
    [
      'a cycle',
      {
        data: [
          { ...ok, name: 'a', dependsOn: ['b'] },
          { ...ok, name: 'b', url: '/echo/{result=a:$.id}' },
        ],
      },
      /dependency cycle .*"a".*"b"/,
    ],
    [
      'a reference to an unknown name',
      { data: [{ ...ok, url: '/items/{result=nobody:$.id}' }] },
      /refers to unknown operation "nobody"/,
    ],
    [
      'a broken reference',
      {
        data: [
          { ...ok, name: 'a' },
          { ...ok, url: '/items/{result=a:$.id' },
        ],
      },
      /operation 1: url: reference .* has no closing/,
    ],
    [
      'a filter in a reference',
      {
        data: [
          { ...ok, name: 'a' },
          { ...ok, body: { x: '{result=a:$[?@.id>0]}' } },
        ],
      },
      /filters are not allowed/,
    ],
  ];

  describe.each([
    ['a strict global ValidationPipe', true],
    ['no global pipe', false],
  ])('a bad envelope is refused whole with 400, nothing runs (%s)', (_name, strictValidation) => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ strictValidation });
    });
    afterAll(() => t.close());
    beforeEach(() => t.recorder.reset());

    it.each(malformed)('%s', async (_case, envelope, message) => {
      const response = await t.http
        .post('/batch')
        .send(envelope as object)
        .expect(400);
      const body = response.body as { statusCode: number; message: string[] };
      expect(body.statusCode).toBe(400);
      expect(body.message.join('\n')).toMatch(message);
      expect(sideEffects(t)).toBe(0);
    });

    it('a body that is not JSON', async () => {
      const response = await t.http
        .post('/batch')
        .set('content-type', 'application/json')
        .send('{"data": [')
        .expect(400);
      expect(response.body).toMatchObject({ statusCode: 400 });
      expect(sideEffects(t)).toBe(0);
    });

    it('a body in another content type, with 415', async () => {
      const response = await t.http
        .post('/batch')
        .set('content-type', 'text/plain')
        .send('hello')
        .expect(415);
      expect((response.body as { message: string }).message).toMatch(
        /^A batch cannot be sent as text\/plain\. This endpoint accepts: \{"data".*; multipart\/mixed/,
      );
      expect(sideEffects(t)).toBe(0);
    });
  });

  describe('limit', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({
        batch: { limit: 50, maxBodyBytes: 50 * 1024 * 1024 },
      });
    });
    afterAll(() => t.close());
    beforeEach(() => t.recorder.reset());

    it('runs a batch of exactly the limit', async () => {
      const response = await postBatch(
        t,
        Array.from({ length: 50 }, () => ok),
      ).expect(200);
      expect(entries(response)).toHaveLength(50);
      expect(t.recorder.count('echo')).toBe(50);
    });

    it.each([51, 100_000])(
      'refuses %i operations with 413 naming the limit, nothing runs',
      async (count) => {
        const response = await postBatch(
          t,
          Array.from({ length: count }, () => ok),
        ).expect(413);
        expect((response.body as { message: string }).message).toBe(
          `A batch may hold at most 50 operations; this one has ${count}`,
        );
        expect(sideEffects(t)).toBe(0);
      },
    );
  });

  describe('nesting', () => {
    it('refuses a batch inside a batch, and runs none of its operations', async () => {
      await withTestApp({}, async (t) => {
        const response = await postBatch(t, [
          ok,
          {
            method: 'POST',
            url: '/batch',
            body: { data: [{ method: 'POST', url: '/items', body: { name: 'x' } }] },
          },
        ]).expect(200);
        const [, nested] = entries(response);
        expect(nested?.code).toBe(403);
        expect(nested?.body).toMatchObject({
          reason: 'nested-batch',
          message: 'A batch cannot be sent as an operation of a batch',
        });
        expect(t.recorder.count('items.create')).toBe(0);
      });
    });
  });

  describe('options', () => {
    it('serves the endpoint on a custom path under the global prefix', async () => {
      await withTestApp(
        {
          batch: { path: 'multi' },
          configure: (app) => app.setGlobalPrefix('api'),
        },
        async (t) => {
          const response = await t.http
            .post('/api/multi')
            .send({ data: [{ method: 'GET', url: '/api/echo' }] })
            .expect(200);
          expect(entries(response)[0]?.code).toBe(200);
          await t.http
            .post('/batch')
            .send({ data: [ok] })
            .expect(404);
        },
      );
    });

    it.each([
      [{ limit: 0 }, /limit must be an integer >= 1, got 0/],
      [{ concurrency: 1.5 }, /concurrency must be an integer >= 1/],
      [{ timeout: -1 }, /timeout must be an integer from 0 to 2147483647/],
    ])('refuses bad options at bootstrap: %j', async (batch, message) => {
      await expect(createTestApp({ batch })).rejects.toThrow(message);
    });
  });
});
