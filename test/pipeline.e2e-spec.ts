import { forEachPlatform, type FastifyHooks } from './utils/platforms.js';
import {
  createTestApp,
  entries,
  postBatch,
  type Entry,
  type TestApp,
  withTestApp,
} from './utils/test-app.js';
import { GateModule, Gates } from './fixtures/gate.controller.js';
import { until } from './utils/wait-for.js';

forEachPlatform((platform) => {
  describe('every operation runs through the real Nest pipeline', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp();
    });
    afterAll(() => t.close());
    beforeEach(() => t.recorder.reset());

    it('answers one entry per operation, in request order, whatever order they finish in', async () => {
      const response = await postBatch(t, [
        { method: 'GET', url: '/slow/80?tag=first' },
        { method: 'GET', url: '/slow/1?tag=second' },
        { method: 'GET', url: '/slow/40?tag=third' },
      ]).expect(200);
      expect(entries(response).map((entry) => entry?.body.tag)).toEqual([
        'first',
        'second',
        'third',
      ]);
      const [first, second] = t.recorder.spans.map((span) => span.name);
      expect([first, second]).toEqual(['second', 'third']); // they really finished out of order
    });

    it('runs middleware and interceptors for each operation', async () => {
      const response = await postBatch(t, [
        { method: 'GET', url: '/echo' },
        { method: 'GET', url: '/echo?again=1' },
        { method: 'GET', url: '/items' },
      ]).expect(200);
      expect(t.recorder.count('middleware GET /echo')).toBe(2);
      expect(t.recorder.count('middleware GET /items')).toBe(1);
      for (const entry of entries(response)) {
        expect(entry?.headers['x-middleware']).toBe('seen');
        expect(entry?.headers['x-intercepted']).toBe('yes');
      }
    });

    it('runs pipes per operation: a refused operation never reaches its handler', async () => {
      const response = await postBatch(t, [
        { method: 'GET', url: '/items/not-a-number' },
        { method: 'POST', url: '/items', body: { name: 42 } },
        { method: 'POST', url: '/items', body: { name: 'ok', extra: true } },
        { method: 'POST', url: '/items', body: { name: 'fine', qty: '3' } },
      ]).expect(200);
      const [badParam, badBody, unknownField, good] = entries(response);
      expect(badParam?.code).toBe(400);
      expect(badParam?.body.message).toMatch(/numeric string is expected/);
      expect(badBody?.code).toBe(400);
      expect(badBody?.body.message).toEqual(['name must be a string']);
      expect(unknownField?.code).toBe(400);
      expect(unknownField?.body.message).toEqual(['property extra should not exist']);
      expect(good?.code).toBe(201);
      expect(good?.body).toMatchObject({ name: 'fine', qty: 3 });
      expect(t.recorder.count('items.create')).toBe(1);
    });

    it('runs exception filters per operation', async () => {
      const [teapot] = entries(await postBatch(t, [{ method: 'GET', url: '/teapot' }]));
      expect(teapot).toMatchObject({ code: 418, body: { teapot: 'short and stout' } });
    });

    it('runs guards per operation: one denied, the others pass', async () => {
      const response = await postBatch(t, [
        { method: 'GET', url: '/secret' },
        { method: 'GET', url: '/secret', headers: { authorization: 'Bearer good' } },
        { method: 'GET', url: '/echo' },
      ]).expect(200);
      expect(entries(response).map((entry) => entry?.code)).toEqual([403, 200, 200]);
      expect(entries(response)[1]?.body).toEqual({ secret: 'the cake' });
      expect(t.recorder.count('secret')).toBe(1);
    });

    it('keeps a failing or crashing operation in its own entry', async () => {
      const response = await postBatch(t, [
        { method: 'GET', url: '/boom' },
        { method: 'GET', url: '/no/such/route' },
        { method: 'GET', url: '/echo' },
      ]).expect(200);
      const [boom, missing, fine] = entries(response);
      expect(boom).toMatchObject({
        code: 500,
        body: { statusCode: 500, message: 'Internal server error' },
      });
      expect(missing).toMatchObject({
        code: 404,
        body: { statusCode: 404, message: 'Cannot GET /no/such/route' },
      });
      expect(fine?.code).toBe(200);
      expect(t.recorder.count('boom')).toBe(1);
    });

    it('passes query strings, bodies and content types as a direct request would', async () => {
      const response = await postBatch(t, [
        { method: 'get', url: '/echo?a=1&b=x%20y&list=1&list=2' },
        { method: 'POST', url: '/echo', body: { nested: { n: 1 }, list: [1, 'two'] } },
        {
          method: 'POST',
          url: '/form',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'name=a&qty=1',
        },
        { method: 'POST', url: '/echo', body: 'plain text body' },
      ]).expect(200);
      const [query, json, form, text] = entries(response);
      expect(query?.method).toBe('GET');
      expect(query?.body.query).toEqual({ a: '1', b: 'x y', list: ['1', '2'] });
      expect(json?.body.body).toEqual({ nested: { n: 1 }, list: [1, 'two'] });
      expect(json?.body.headers['content-type']).toBe('application/json');
      expect(form?.body).toEqual({
        type: 'application/x-www-form-urlencoded',
        body: { name: 'a', qty: '1' },
      });
      expect(text?.body.headers['content-type']).toBe('text/plain; charset=utf-8');
    });

    it('gives every method the answer a direct request gets', async () => {
      const created = await t.http.post('/items').send({ name: 'seed' }).expect(201);
      const id = (created.body as { id: number }).id;
      const requests: [string, string, unknown?][] = [
        ['GET', `/items/${id}`],
        ['HEAD', `/items/${id}`],
        ['OPTIONS', `/items/${id}`],
        ['PUT', `/items/${id}`, { name: 'put', qty: 1 }],
        ['PATCH', `/items/${id}`, { qty: 2 }],
        ['GET', '/text'],
        ['GET', '/binary'],
        ['GET', '/cookie'],
        ['GET', '/raw-head'],
        ['DELETE', `/items/${id}`],
        ['GET', `/items/${id}`],
      ];
      // One batch per request, in order as the direct replay below: the operations of one batch
      // run in parallel, in no defined order, and the DELETE must not overtake the PATCH.
      const batched: Entry[] = [];
      for (const [method, url, body] of requests) {
        // Every header, as the direct answer has them (the default leaves content-length out).
        const reply = await t.http
          .post('/batch?entryHeaders=all')
          .send({ data: [{ method, url, body }] })
          .expect(200);
        const [entry] = entries(reply);
        // Cookies come on the reply, never in the entry: compared with the direct ones below.
        expect(entry?.headers['set-cookie']).toBeUndefined();
        const cookies = reply.headers['set-cookie'] as string[] | undefined;
        batched.push({
          ...(entry as Entry),
          headers: { ...entry?.headers, ...(cookies && { 'set-cookie': cookies }) },
        });
      }
      // Replay on a fresh item so both runs see the same state.
      await t.http.put(`/items/${id}`).send({ name: 'seed' }).expect(200);
      for (const [i, [method, url, body]] of requests.entries()) {
        const direct = await t.http[method.toLowerCase() as 'get'](url)
          .buffer(true)
          .parse((res, done) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () => done(null, Buffer.concat(chunks)));
          })
          .send(body as object);
        const entry = batched[i] as Entry;
        expect([method, url, entry.code]).toEqual([method, url, direct.status]);
        for (const name of ['content-type', 'content-length', 'allow', 'set-cookie', 'x-raw']) {
          expect([url, name, entry.headers[name]]).toEqual([url, name, direct.headers[name]]);
        }
        // supertest skips the parser for HEAD and leaves {}: no body, as HTTP says.
        const raw = Buffer.isBuffer(direct.body) ? direct.body : Buffer.alloc(0);
        const bytes =
          entry.body === undefined
            ? Buffer.alloc(0)
            : entry.bodyEncoding === 'base64'
              ? Buffer.from(entry.body as string, 'base64')
              : Buffer.from(
                  typeof entry.body === 'string' ? entry.body : JSON.stringify(entry.body),
                );
        expect([url, bytes.toString('hex')]).toEqual([url, raw.toString('hex')]);
      }
    });

    it('runs independent operations in parallel', async () => {
      await withTestApp({ imports: [GateModule] }, async (app) => {
        const gates = app.app.get(Gates);
        const batch = postBatch(app, [
          { method: 'GET', url: '/gate/a' },
          { method: 'GET', url: '/gate/b' },
          { method: 'GET', url: '/gate/c' },
        ]).then((response) => response);
        // Awaited below; should an assertion fail first, the app's close resets it unheard.
        batch.catch(() => undefined);
        // All three held at the gate at one moment: each started before any ended.
        await until(() => gates.arrived.length === 3, 'three operations at the gate at once');
        expect(gates.passed).toEqual([]);
        for (let i = 0; i < 3; i++) gates.releaseOldest();
        const response = await batch;
        expect(entries(response).map((entry) => entry?.code)).toEqual([200, 200, 200]);
        expect(gates.peak).toBe(3);
      });
    });

    it('marks operations so handlers can tell them from direct requests, and no header can fake it', async () => {
      const direct = await t.http.get('/echo').set('x-nestjs-batch', '1').expect(200);
      expect((direct.body as { operation: unknown }).operation).toBeNull();
      const response = await postBatch(t, [
        { method: 'GET', url: '/echo' },
        { method: 'GET', url: '/echo', name: 'second' },
      ]);
      expect(entries(response).map((entry) => entry?.body.operation)).toEqual([
        { index: 0 },
        { index: 1, name: 'second' },
      ]);
    });

    it("gives each operation its own async context, not the batch request's", async () => {
      const response = await postBatch(t, [
        { method: 'GET', url: '/echo' },
        { method: 'GET', url: '/echo' },
        { method: 'GET', url: '/echo' },
      ]);
      const ids = entries(response).map((entry) => entry?.body.scope.id as string);
      expect(new Set(ids).size).toBe(3);
    });

    it('keeps serving normal requests after batches', async () => {
      for (let i = 0; i < 3; i++) {
        await postBatch(t, [{ method: 'POST', url: '/items', body: { name: `b${i}` } }]).expect(
          200,
        );
      }
      const created = await t.http.post('/items').send({ name: 'direct', qty: 4 }).expect(201);
      expect(created.body).toMatchObject({ name: 'direct', qty: 4 });
      await t.http.get('/echo?z=1').expect(200);
      expect((await t.http.post('/items').send('{"broken').type('json')).status).toBe(400);
    });
  });

  describe("an operation's client address is the batch request's", () => {
    it.each([
      ['no trust proxy', false],
      ['hop-count trust proxy', 1],
      ['address trust proxy', 'loopback'],
    ])("%s: req.ip equals a direct request's", async (_name, trust) => {
      await withTestApp({ trustProxy: trust }, async (t) => {
        const headers = { 'x-forwarded-for': '203.0.113.9, 198.51.100.7' };
        const direct = await t.http.get('/echo').set(headers).expect(200);
        const [entry] = entries(await postBatch(t, [{ method: 'GET', url: '/echo' }], headers));
        expect(entry?.body.ip).toBe((direct.body as { ip: string }).ip);
        expect(entry?.body.headers['x-forwarded-for']).toBe(headers['x-forwarded-for']);
      });
    });
  });

  describe("the adapter's own request lifecycle", () => {
    // Express has no lifecycle of its own beyond middleware, tested above.
    const onFastify = platform.name === 'fastify' ? it : it.skip;
    onFastify(
      'runs Fastify hooks (onRequest, preHandler, onSend, onResponse) for each operation',
      async () => {
        const seen: string[] = [];
        const t = await createTestApp({
          configure: (app) => {
            const fastify = app.getHttpAdapter().getInstance() as FastifyHooks;
            for (const hook of ['onRequest', 'preHandler', 'onSend', 'onResponse'] as const) {
              fastify.addHook(
                hook,
                (request: { url: string }, _reply: unknown, ...rest: unknown[]) => {
                  seen.push(`${hook} ${request.url}`);
                  const done = rest[rest.length - 1] as (error?: null, payload?: unknown) => void;
                  if (hook === 'onSend') done(null, rest[0]);
                  else done();
                },
              );
            }
          },
        });
        try {
          await postBatch(t, [
            { method: 'GET', url: '/echo?n=1' },
            { method: 'GET', url: '/items' },
          ]).expect(200);
          for (const url of ['/echo?n=1', '/items']) {
            for (const hook of ['onRequest', 'preHandler', 'onSend']) {
              expect(seen).toContain(`${hook} ${url}`);
            }
          }
          // onResponse runs after the response is sent, as for a request of its own.
          await new Promise((resolve) => setImmediate(resolve));
          expect(seen).toContain('onResponse /items');
        } finally {
          await t.close();
        }
      },
    );
  });
});
