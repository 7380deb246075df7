import { batchFetchImplementation } from '@jrmdayn/googleapis-batcher';
import { BatchRequestContent, BatchResponseContent } from '@microsoft/microsoft-graph-client';
import { forEachPlatform } from './utils/platforms.js';
import { baseOf, postRaw } from './utils/raw-http.js';
import {
  createTestApp,
  sideEffects,
  useTestApp,
  type TestApp,
  withTestApp,
} from './utils/test-app.js';

/** Posts a multipart batch, expects 200, and reads the reply as text with its Content-Type. */
async function postMultipart(
  t: TestApp,
  contentType: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<{ contentType: string; text: string }> {
  const response = await postRaw(t, body, { ...headers, 'content-type': contentType });
  expect(response.status).toBe(200);
  return {
    contentType: response.headers['content-type'] ?? '',
    text: response.body.toString('latin1'),
  };
}

/** The parts of a multipart/mixed reply: Content-ID, status, headers, body. */
function partsOf(contentType: string, body: string) {
  const boundary = /boundary=([^;]+)$/.exec(contentType)?.[1];
  if (!boundary) throw new Error(`no boundary in ${contentType}`);
  expect(body.endsWith(`--${boundary}--\r\n`)).toBe(true);
  return body
    .slice(0, -`--${boundary}--\r\n`.length)
    .split(`--${boundary}\r\n`)
    .slice(1)
    .map((part) => {
      const [outer = '', head = '', ...rest] = part.split('\r\n\r\n');
      const [statusLine = '', ...headerLines] = head.split('\r\n');
      return {
        outer,
        code: Number(statusLine.split(' ')[1]),
        headers: Object.fromEntries(
          headerLines.map((line) => [
            line.slice(0, line.indexOf(':')).toLowerCase(),
            line.slice(line.indexOf(':') + 2),
          ]),
        ),
        body: rest.join('\r\n\r\n').replace(/\r\n$/, ''),
      };
    });
}

forEachPlatform(() => {
  describe('Microsoft Graph JSON batching, with the official client', () => {
    const t = useTestApp();

    it('builds with BatchRequestContent and reads with BatchResponseContent: statuses, bodies, 424', async () => {
      const base = baseOf(t);
      const content = new BatchRequestContent([
        {
          id: '1',
          request: new Request(`${base}/items`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ name: 'graph', qty: 3 }),
          }),
        },
        { id: '2', request: new Request(`${base}/items?name=graph`), dependsOn: ['1'] },
        { id: '3', request: new Request(`${base}/boom`), dependsOn: ['2'] },
        { id: '4', request: new Request(`${base}/echo`), dependsOn: ['3'] },
      ]);
      const response = await t.http
        .post('/batch')
        .send((await content.getContent()) as object)
        .expect(200);
      const reply = new BatchResponseContent(response.body as { responses: [] });
      const created = reply.getResponseById('1');
      expect(created.status).toBe(201);
      const item = (await created.json()) as { id: number; name: string; qty: number };
      expect(item).toMatchObject({ name: 'graph', qty: 3 });
      expect(await reply.getResponseById('2').json()).toEqual([item]);
      expect(reply.getResponseById('3').status).toBe(500);
      // The failed dependency: never run, 424, as Graph answers.
      expect(reply.getResponseById('4').status).toBe(424);
      expect(t.recorder.count('echo')).toBe(0);
      // Content-Type spelled as the client reads it, and responses in request order.
      const raw = response.body as { responses: { id: string; headers: Record<string, string> }[] };
      expect(raw.responses.map((entry) => entry.id)).toEqual(['1', '2', '3', '4']);
      expect(raw.responses[0]?.headers['Content-Type']).toMatch(/^application\/json/);
    });

    it('sends non-JSON response bodies base64-encoded', async () => {
      const response = await t.http
        .post('/batch')
        .send({
          requests: [
            { id: 'bin', method: 'GET', url: '/binary' },
            { id: 'txt', method: 'GET', url: 'text' },
          ],
        })
        .expect(200);
      const reply = new BatchResponseContent(response.body as { responses: [] });
      expect(await reply.getResponseById('bin').text()).toBe(
        Buffer.from([0, 1, 2, 250, 255]).toString('base64'),
      );
      expect(await reply.getResponseById('txt').text()).toBe(
        Buffer.from('plain words').toString('base64'),
      );
    });

    it('takes a base64 request body for a non-JSON Content-Type', async () => {
      const response = await t.http
        .post('/batch')
        .send({
          requests: [
            {
              id: 'form',
              method: 'POST',
              url: '/form',
              headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
              body: Buffer.from('name=a&qty=1').toString('base64'),
            },
          ],
        })
        .expect(200);
      const [entry] = (response.body as { responses: { status: number; body: unknown }[] })
        .responses;
      expect(entry?.status).toBe(200);
      expect(entry?.body).toEqual({
        type: 'application/x-www-form-urlencoded',
        body: { name: 'a', qty: '1' },
      });
    });

    it('refuses duplicate ids and missing ids with 400, naming them; nothing runs', async () => {
      const response = await t.http
        .post('/batch')
        .send({
          requests: [
            { id: '1', method: 'GET', url: '/echo' },
            { id: '1', method: 'GET', url: '/echo' },
            { method: 'GET', url: '/echo' },
          ],
        })
        .expect(400);
      expect((response.body as { message: string[] }).message).toEqual([
        'requests.1.id "1" is not unique',
        'requests.2.id must be a non-empty string',
      ]);
      expect(sideEffects(t)).toBe(0);
    });
  });

  describe('Facebook Graph batch', () => {
    const t = useTestApp();

    it('runs relative_url, form bodies and references; omits a referenced success; bodies as strings', async () => {
      const response = await t.http
        .post('/batch')
        .send({
          batch: [
            { method: 'POST', relative_url: 'items', name: 'create', body: 'name=fb&qty=2' },
            { method: 'GET', relative_url: 'items/{result=create:$.id}' },
          ],
        })
        .expect(200);
      const entries = response.body as ({
        code: number;
        headers: { name: string; value: string }[];
        body: string;
      } | null)[];
      expect(Array.isArray(entries)).toBe(true);
      // Referenced by the second operation and successful: omitted, Facebook's default.
      expect(entries[0]).toBeNull();
      expect(entries[1]?.code).toBe(200);
      expect(typeof entries[1]?.body).toBe('string');
      expect(JSON.parse(entries[1]?.body ?? '')).toMatchObject({ name: 'fb', qty: 2 });
      expect(entries[1]?.headers).toContainEqual({
        name: 'Content-Type',
        value: 'application/json; charset=utf-8',
      });
    });

    it('omits a success referenced only from a header, as one referenced from the url', async () => {
      const response = await t.http
        .post('/batch')
        .send({
          batch: [
            { method: 'POST', relative_url: 'items', name: 'made', body: 'name=hdr' },
            { method: 'GET', relative_url: 'echo', headers: ['X-Item: {result=made:$.id}'] },
          ],
        })
        .expect(200);
      const entries = response.body as ({ code: number } | null)[];
      expect(entries[0]).toBeNull();
      expect(entries[1]?.code).toBe(200);
    });

    it('takes the batch as a form field, with include_headers=false and depends_on', async () => {
      const batch = JSON.stringify([
        {
          method: 'POST',
          relative_url: '/items',
          name: 'a',
          body: 'name=form',
          omit_response_on_success: false,
        },
        { method: 'GET', relative_url: 'items?name=form', depends_on: 'a' },
        { method: 'GET', relative_url: 'secret', headers: ['Authorization: Bearer good'] },
        {
          method: 'GET',
          relative_url: 'secret',
          headers: [{ name: 'Authorization', value: 'Bearer bad' }],
        },
      ]);
      const form = new URLSearchParams({ batch, include_headers: 'false' }).toString();
      const response = await postRaw(t, form, {
        'content-type': 'application/x-www-form-urlencoded',
      });
      expect(response.status).toBe(200);
      const entries = JSON.parse(response.text) as ({
        code: number;
        headers?: unknown;
        body: string;
      } | null)[];
      expect(entries.map((entry) => entry?.code)).toEqual([201, 200, 200, 403]);
      expect(entries.every((entry) => entry?.headers === undefined)).toBe(true);
      expect(JSON.parse(entries[1]?.body ?? '')).toHaveLength(1);
    });

    it('joins several matches of a reference with commas', async () => {
      const response = await t.http
        .post('/batch')
        .send({
          batch: [
            { method: 'POST', relative_url: 'items', name: 'x', body: 'name=one' },
            { method: 'POST', relative_url: 'items', name: 'y', body: 'name=one' },
            { method: 'GET', relative_url: 'items?name=one', name: 'list', depends_on: ['x', 'y'] },
            { method: 'GET', relative_url: 'echo?ids={result=list:$.*.id}' },
          ],
        })
        .expect(200);
      const entries = response.body as ({ body: string } | null)[];
      const echoed = JSON.parse(entries[3]?.body ?? '') as { query: { ids: string } };
      expect(echoed.query.ids).toMatch(/^\d+,\d+$/);
    });
  });

  describe('multipart/mixed', () => {
    const t = useTestApp();

    /** WIRE-FORMATS §4's example, with line ends and boundary quoting as given. */
    const example = (lineEnd: string, boundary = 'b') =>
      [
        `--${boundary}`,
        'Content-Type: application/http',
        'Content-ID: 1',
        '',
        'GET /items/999 HTTP/1.1',
        'Accept: application/json',
        '',
        `--${boundary}`,
        'Content-Type: application/http',
        'Content-ID: 2',
        '',
        'POST /items HTTP/1.1',
        'Content-Type: application/json',
        '',
        '{"name":"a"}',
        `--${boundary}--`,
        '',
      ].join(lineEnd);

    it.each([
      ['CRLF, unquoted boundary', '\r\n', 'multipart/mixed; boundary=b'],
      ['LF, quoted boundary', '\n', 'multipart/mixed; boundary="b"'],
    ])(
      'answers the documented example (%s) with parts in order, each Content-ID as sent, CRLF',
      async (_name, lineEnd, type) => {
        const { contentType, text } = await postMultipart(t, type, example(lineEnd));
        expect(contentType).toMatch(/^multipart\/mixed; boundary=[A-Za-z0-9_]+$/);
        expect(text.replace(/\r\n/g, '')).not.toMatch(/\n/); // CRLF only, in our framing and heads
        const parts = partsOf(contentType, text);
        expect(parts.map((part) => part.outer)).toEqual([
          'Content-Type: application/http\r\nContent-ID: 1',
          'Content-Type: application/http\r\nContent-ID: 2',
        ]);
        expect(parts.map((part) => part.code)).toEqual([404, 201]);
        expect(JSON.parse(parts[1]?.body ?? '')).toMatchObject({ name: 'a' });
        expect(parts[1]?.headers['content-length']).toBe(
          String(Buffer.byteLength(parts[1]?.body ?? '')),
        );
      },
    );

    it("reads Google's style: no Content-ID, no HTTP version, bracketed ids, outer headers inherited unless a part sets its own", async () => {
      const body = [
        '--batch_x',
        'Content-Type: application/http',
        '',
        'GET /secret',
        '',
        '--batch_x',
        'Content-Type: application/http',
        'Content-ID: <item2:1@example.com>',
        '',
        'GET /secret HTTP/1.1',
        'Authorization: Bearer bad',
        '',
        '--batch_x--',
      ].join('\r\n');
      const reply = await postMultipart(t, 'multipart/mixed; boundary=batch_x', body, {
        authorization: 'Bearer good',
      });
      const parts = partsOf(reply.contentType, reply.text);
      expect(parts.map((part) => part.code)).toEqual([200, 403]);
      expect(parts[0]?.outer).toContain('Content-ID: response-1');
      expect(parts[1]?.outer).toContain('Content-ID: <response-item2:1@example.com>');
    });

    it('never lets a part reach another host: its Host header and absolute url are ignored', async () => {
      const body = [
        '--b',
        'Content-Type: application/http',
        '',
        'GET http://evil.example:9/echo?x=1 HTTP/1.1',
        'Host: evil.example',
        '',
        '--b--',
      ].join('\r\n');
      const reply = await postMultipart(t, 'multipart/mixed; boundary=b', body);
      const [part] = partsOf(reply.contentType, reply.text);
      const echoed = JSON.parse(part?.body ?? '') as { url: string; headers: { host: string } };
      expect(echoed.url).toBe('/echo?x=1');
      expect(echoed.headers.host).toBe(new URL(baseOf(t)).host);
    });

    it('refuses a part that is not an HTTP request, and a batch over the limit, naming the problem', async () => {
      const garbage = [
        '--b',
        'Content-Type: application/http',
        '',
        'this is not http',
        '--b--',
      ].join('\r\n');
      const bad = await postRaw(t, garbage, { 'content-type': 'multipart/mixed; boundary=b' });
      expect(bad.status).toBe(400);
      expect(bad.text).toMatch(/part 1: its content is not an HTTP request/);
      const many =
        Array.from(
          { length: 51 },
          () => '--b\r\nContent-Type: application/http\r\n\r\nGET /echo\r\n',
        ).join('') + '--b--';
      const statuses = [];
      for (const type of ['multipart/mixed; boundary=b', 'multipart/mixed']) {
        statuses.push((await postRaw(t, many, { 'content-type': type })).status);
      }
      expect(statuses).toEqual([413, 400]);
      expect(sideEffects(t)).toBe(0);
    });

    it('talks to a published multipart client: @jrmdayn/googleapis-batcher (LF, quoted boundary)', async () => {
      const fetchBatched = batchFetchImplementation({ batchWindowMs: 10 });
      const base = baseOf(t);
      const [one, created, missing] = await Promise.all([
        fetchBatched(`${base}/echo?n=1`, { method: 'GET' }),
        fetchBatched(`${base}/items`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ name: 'google' }),
        }),
        fetchBatched(`${base}/items/999`, { method: 'GET' }),
      ]);
      expect(one.status).toBe(200);
      expect(((await one.json()) as { query: unknown }).query).toEqual({ n: '1' });
      expect(created.status).toBe(201);
      expect(await created.json()).toMatchObject({ name: 'google' });
      expect(missing.status).toBe(404);
      expect(t.recorder.count('middleware POST /batch')).toBe(1);
    });
  });

  describe("the formats' documented examples (golden)", () => {
    const t = useTestApp();

    it('Facebook: friends, then ?ids={result=friends:$.data.*.id}', async () => {
      const response = await t.http
        .post('/batch')
        .send({
          batch: [
            { method: 'GET', name: 'friends', relative_url: 'me/friends?limit=2' },
            { method: 'GET', relative_url: '?ids={result=friends:$.data.*.id}' },
          ],
        })
        .expect(200);
      const entries = response.body as ({ code: number; body: string } | null)[];
      expect(entries[0]).toBeNull();
      expect(entries[1]?.code).toBe(200);
      expect(JSON.parse(entries[1]?.body ?? '')).toEqual({
        '101': { id: '101' },
        '102': { id: '102' },
      });
    });

    it('Microsoft Graph: GET /me, then a dependent PATCH /me', async () => {
      const response = await t.http
        .post('/batch')
        .send({
          requests: [
            { id: '1', method: 'GET', url: '/me' },
            {
              id: '2',
              dependsOn: ['1'],
              method: 'PATCH',
              url: '/me',
              headers: { 'Content-Type': 'application/json' },
              body: { city: 'Redmond' },
            },
          ],
        })
        .expect(200);
      expect(response.body).toEqual({
        responses: [
          {
            id: '1',
            status: 200,
            headers: expect.objectContaining({
              'Content-Type': 'application/json; charset=utf-8',
            }) as unknown,
            body: { displayName: 'Ada', city: 'Seattle' },
          },
          {
            id: '2',
            status: 200,
            headers: expect.objectContaining({
              'Content-Type': 'application/json; charset=utf-8',
            }) as unknown,
            body: { displayName: 'Ada', city: 'Redmond' },
          },
        ],
      });
    });
  });

  describe('choosing the format', () => {
    const t = useTestApp();

    it('refuses an unknown JSON shape with 400 listing every accepted format', async () => {
      const response = await t.http.post('/batch').send({ operations: [] }).expect(400);
      const message = JSON.stringify(response.body);
      for (const words of ['{\\"data\\"', '{\\"batch\\"', '{\\"requests\\"', 'multipart/mixed']) {
        expect(message).toContain(words);
      }
    });

    it('accepts only the formats the formats option turns on', async () => {
      await withTestApp({ batch: { formats: ['native'] } }, async (only) => {
        const graph = await only.http
          .post('/batch')
          .send({ requests: [{ id: '1', method: 'GET', url: '/echo' }] })
          .expect(400);
        expect(JSON.stringify(graph.body)).not.toContain('requests');
        const refused = [
          await postRaw(only, '--b--', { 'content-type': 'multipart/mixed; boundary=b' }),
          await postRaw(only, 'batch=[]', { 'content-type': 'application/x-www-form-urlencoded' }),
        ];
        expect(refused.map((response) => response.status)).toEqual([415, 415]);
        await only.http
          .post('/batch')
          .send({ data: [{ method: 'GET', url: '/echo' }] })
          .expect(200);
        expect(only.recorder.count('echo')).toBe(1);
      });
    });

    it('refuses an unknown format name at bootstrap', async () => {
      await expect(
        createTestApp({ batch: { formats: ['native', 'soap' as never] } }),
      ).rejects.toThrow(
        /formats must be a non-empty array of "native", "facebook", "graph", "multipart"/,
      );
    });
  });
});
