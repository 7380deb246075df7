import { Validator } from '@seriousme/openapi-schema-validator';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import {
  BatchModule,
  type BatchModuleExtras,
  type BatchModuleOptions,
  type BatchOperation,
} from 'nestjs-batch';
import { forEachPlatform } from './utils/platforms.js';
import { entries, withTestApp, type TestApp } from './utils/test-app.js';

/** The OpenAPI document @nestjs/swagger generates for the running test app. */
function documentOf(t: TestApp): any {
  // The batch module's routes alone: @nestjs/swagger 12 writes the fixture's @All() route with a
  // `search` method, which no OpenAPI version has.
  return SwaggerModule.createDocument(
    t.app,
    new DocumentBuilder().setTitle('fixture').setVersion('1').build(),
    { include: [BatchModule] },
  );
}

/** The batch endpoint's operation in the document. */
function batchOperation(document: any, path = '/batch'): any {
  return document.paths?.[path]?.post;
}

async function validate(document: unknown): Promise<{ valid: boolean; errors?: unknown }> {
  // The validator keeps a reference to what it validated: give it a copy.
  return new Validator().validate(JSON.parse(JSON.stringify(document)) as Record<string, unknown>);
}

const ITEM_EXAMPLE: BatchOperation[] = [
  { method: 'POST', url: '/items', body: { name: 'pen', qty: 2 }, name: 'item' },
  { method: 'GET', url: '/items/{result=item:$.id}' },
];

const PREFIXED_EXAMPLE: BatchOperation[] = [
  { method: 'POST', url: '/api/items', body: { name: 'cap', qty: 1 }, name: 'item' },
  { method: 'GET', url: '/api/items/{result=item:$.id}' },
];

function moduleWith(options: BatchModuleOptions & BatchModuleExtras = {}) {
  const { path, ...rest } = options;
  return BatchModule.forRoot({ ...rest, ...(path === undefined ? {} : { path }) });
}

forEachPlatform(() => {
  describe('the OpenAPI document of an app with @nestjs/swagger', () => {
    it('passes an OpenAPI 3 validator', async () => {
      await withTestApp({ module: moduleWith() }, async (t) => {
        const document = documentOf(t);
        expect(batchOperation(document)).toBeDefined();
        const result = await validate(document);
        expect(result.errors).toBeUndefined();
        expect(result.valid).toBe(true);
      });
    });

    it('describes the request: the native format first, the others as alternative media types', async () => {
      await withTestApp({ module: moduleWith() }, async (t) => {
        const document = documentOf(t);
        expect((await validate(document)).valid).toBe(true);
        const body = batchOperation(document).requestBody;
        expect(body.required).toBe(true);
        expect(Object.keys(body.content)).toEqual([
          'application/json',
          'application/x-www-form-urlencoded',
          'multipart/mixed',
        ]);
        const json = body.content['application/json'].schema;
        const native = json.oneOf[0];
        expect(native.required).toEqual(['data']);
        expect(native.properties.data.items.required).toEqual(['method', 'url']);
        expect(native.properties.data.maxItems).toBe(50);
        expect(json.oneOf.map((schema: any) => schema.required[0])).toEqual([
          'data',
          'batch',
          'requests',
        ]);
      });
    });

    it('lists only the media types of the formats the endpoint accepts', async () => {
      await withTestApp({ module: moduleWith({ formats: ['graph', 'native'] }) }, async (t) => {
        const body = batchOperation(documentOf(t)).requestBody;
        expect(Object.keys(body.content)).toEqual(['application/json']);
        const json = body.content['application/json'].schema;
        expect(json.oneOf.map((schema: any) => schema.required[0])).toEqual(['data', 'requests']);
        expect((await validate(documentOf(t))).valid).toBe(true);
      });
    });

    it('describes the 200 reply as JSON and as NDJSON, and the refusals with the error body the endpoint really sends', async () => {
      await withTestApp({ module: moduleWith({ limit: 3 }) }, async (t) => {
        const { responses } = batchOperation(documentOf(t));
        expect(Object.keys(responses).sort()).toEqual(['200', '400', '403', '413', '415']);
        const ok = Object.keys(responses['200'].content);
        expect(ok).toEqual(expect.arrayContaining(['application/json', 'application/x-ndjson']));
        const op = { method: 'GET', url: '/echo' };
        const json = await t.http
          .post('/batch')
          .send({ data: [op] })
          .expect(200);
        const ndjson = await t.http
          .post('/batch')
          .set('accept', 'application/x-ndjson')
          .send({ data: [op] })
          .expect(200);
        for (const reply of [json, ndjson]) {
          expect(ok).toContain(String(reply.headers['content-type']).split(';')[0]);
        }
        // A streamed line has what the line schema requires.
        const [line] = ndjson.text.trim().split('\n');
        const lineSchema = responses['200'].content['application/x-ndjson'].schema.oneOf[0];
        for (const key of lineSchema.required as string[]) {
          expect(JSON.parse(line ?? '{}')).toHaveProperty(key);
        }

        const documented: Record<string, string[]> = {
          '400': ['invalid-batch', 'atomic-groups-unavailable'],
          '403': ['nested-batch', 'cross-site'],
          '413': ['too-many-operations', 'body-too-large'],
          '415': ['unsupported-format'],
        };
        for (const [status, reasons] of Object.entries(documented)) {
          const schema = responses[status].content['application/json'].schema;
          expect(schema.required).toEqual(['statusCode', 'error', 'message', 'reason']);
          expect(schema.properties.reason.enum).toEqual(reasons);
        }
        // What the endpoint answers, against what the document says of that status.
        const refusals = await Promise.all([
          t.http.post('/batch').send({ data: [{ method: 'GET' }] }),
          t.http.post('/batch').send({ data: [op, op, op, op] }),
          t.http.post('/batch').set('content-type', 'text/plain').send('hello'),
        ]);
        expect(refusals.map((refusal) => refusal.status)).toEqual([400, 413, 415]);
        for (const refusal of refusals) {
          const schema = responses[String(refusal.status)].content['application/json'].schema;
          const body = refusal.body as Record<string, unknown>;
          for (const key of schema.required as string[]) expect(body).toHaveProperty(key);
          expect(schema.properties.reason.enum).toContain(body.reason);
        }
      });
    });

    it('carries an example batch that, posted to the endpoint, answers 200 with its entries', async () => {
      await withTestApp(
        { module: moduleWith({ openApi: { example: ITEM_EXAMPLE } }) },
        async (t) => {
          const body = batchOperation(documentOf(t)).requestBody;
          const example = body.content['application/json'].example;
          expect(example).toEqual({ data: ITEM_EXAMPLE });
          const response = await t.http.post('/batch').send(example).expect(200);
          const [created, read] = entries(response);
          expect(created?.code).toBe(201);
          expect(read?.code).toBe(200);
          expect(read?.url).toBe(`/items/${String(created?.body.id)}`);
          expect(read?.body).toEqual(created?.body);
        },
      );
    });

    it('has a default example that runs on any app: its entry is what the app answers directly', async () => {
      await withTestApp({ module: moduleWith() }, async (t) => {
        const example = batchOperation(documentOf(t)).requestBody.content['application/json']
          .example as { data: { method: string; url: string }[] };
        expect(example.data.length).toBeGreaterThan(0);
        const response = await t.http.post('/batch').send(example).expect(200);
        const got = entries(response);
        for (const [index, operation] of example.data.entries()) {
          const direct = await t.http.get(operation.url);
          expect(got[index]?.code).toBe(direct.status);
        }
      });
    });

    it('documents the endpoint at its own path, under the global prefix', async () => {
      await withTestApp(
        {
          module: moduleWith({ path: 'ops', openApi: { example: PREFIXED_EXAMPLE } }),
          configure: (app) => app.setGlobalPrefix('api'),
        },
        async (t) => {
          const document = documentOf(t);
          const operation = batchOperation(document, '/api/ops');
          expect(operation).toBeDefined();
          expect((await validate(document)).valid).toBe(true);
          const example = operation.requestBody.content['application/json'].example;
          expect(example).toEqual({ data: PREFIXED_EXAMPLE });
          const response = await t.http.post('/api/ops').send(example).expect(200);
          expect(entries(response).map((entry) => entry?.code)).toEqual([201, 200]);
        },
      );
    });

    it('leaves the endpoint undescribed with openApi: false', async () => {
      await withTestApp({ module: moduleWith({ openApi: false }) }, async (t) => {
        const operation = batchOperation(documentOf(t));
        expect(operation).toBeDefined();
        expect(operation.requestBody).toBeUndefined();
        expect(operation.responses['200']).toBeUndefined();
        await t.http
          .post('/batch')
          .send({ data: [{ method: 'GET', url: '/echo' }] })
          .expect(200);
      });
    });

    it('takes the description from forRootAsync options too', async () => {
      await withTestApp(
        {
          module: BatchModule.forRootAsync({
            useFactory: () =>
              Promise.resolve({ formats: ['native' as const], openApi: { example: ITEM_EXAMPLE } }),
          }),
        },
        async (t) => {
          const body = batchOperation(documentOf(t)).requestBody;
          expect(Object.keys(body.content)).toEqual(['application/json']);
          expect(body.content['application/json'].example).toEqual({ data: ITEM_EXAMPLE });
          const response = await t.http
            .post('/batch')
            .send(body.content['application/json'].example);
          expect(entries(response).map((entry) => entry?.code)).toEqual([201, 200]);
        },
      );
    });
  });
});
