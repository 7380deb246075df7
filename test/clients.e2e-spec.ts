import { FastifyAdapter } from '@nestjs/platform-fastify';
import graph from 'fbgraph';
import { ODataBatchChangeset, ODataBatchOperation, ODataBatchRequest } from 'odata-batch-request';
import { execFile, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { forEachPlatform, type Platform } from './utils/platforms.js';
import { baseOf, rawRequest } from './utils/raw-http.js';
import { itNeeding } from './utils/system-package.js';
import { createTestApp, type TestApp, type TestAppOptions } from './utils/test-app.js';
import { sendODataBatch } from './utils/odata.js';

const here = dirname(fileURLToPath(import.meta.url));
const run = promisify(execFile);

/** Debian's Python, where python3-requests and python3-googleapi are installed (.ci/run). */
const PYTHON = '/usr/bin/python3';
const itWithGooglePython = itNeeding(
  spawnSync(PYTHON, ['-c', 'import requests, googleapiclient']).status === 0,
  'apt-get install python3-requests python3-googleapi',
);

/** One request as a client sent it, and what it got: the terms every client is compared in. */
interface Answer {
  status: number;
  json: unknown;
}

/**
 * Two fresh apps alike, each with one item named "seed": the batch goes to one, the same requests
 * one by one to the other, so both start from the same state and ids.
 */
async function twoApps(options: TestAppOptions = {}): Promise<[TestApp, TestApp]> {
  const apps = await Promise.all([createTestApp(options), createTestApp(options)]);
  for (const app of apps) await app.http.post('/items').send({ name: 'seed' }).expect(201);
  return apps;
}

async function closing(apps: readonly TestApp[], test: () => Promise<void>): Promise<void> {
  try {
    await test();
  } finally {
    await Promise.all(apps.map((app) => app.close()));
  }
}

/** The same requests, one by one, as the JSON their direct responses hold. */
async function direct(
  app: TestApp,
  requests: readonly { method: string; path: string; json?: unknown; form?: string }[],
): Promise<Answer[]> {
  const answers: Answer[] = [];
  for (const request of requests) {
    let call = app.http[request.method.toLowerCase() as 'get'](request.path);
    if (request.json !== undefined) call = call.send(request.json as object);
    if (request.form !== undefined) call = call.type('form').send(request.form);
    const response = await call;
    answers.push({ status: response.status, json: response.body as unknown });
  }
  return answers;
}

/**
 * Flask-Batch's `decode_batch_response`, mirrored step by step with exactly what it checks:
 * `parse_multi` splits the body on `--<boundary>` (from the Content-Type, quotes stripped) and
 * drops the first and last pieces; `strip_headers` cuts each at its first blank line;
 * `make_response` cuts the rest at its first blank line into head and content, drops the content's
 * last CRLF, splits the head's first line off (so at least one header must follow it), reads the
 * code as the second of three space-separated fields, and `finalize` calls `.json()` on each.
 * Python raises where a split finds no separator; so does this.
 */
function flaskBatchDecode(contentType: string, content: Buffer): Answer[] {
  const splitOnce = (text: string, separator: string): [string, string] => {
    const at = text.indexOf(separator);
    if (at === -1) throw new Error(`ValueError: no ${JSON.stringify(separator)} in a part`);
    return [text.slice(0, at), text.slice(at + separator.length)];
  };
  const boundaryRaw = splitOnce(contentType, '=')[1].replace(/^"/, '').replace(/"$/, '');
  const payloads = content.toString('latin1').split(`--${boundaryRaw}`).slice(1, -1);
  return payloads.map((payload) => {
    const [, message] = splitOnce(payload, '\r\n\r\n');
    const [header, rest] = splitOnce(message, '\r\n\r\n');
    const body = rest.slice(
      0,
      rest.lastIndexOf('\r\n') === -1 ? rest.length : rest.lastIndexOf('\r\n'),
    );
    const [status] = splitOnce(header, '\r\n');
    const fields = status.split(' ');
    if (fields.length < 3) throw new Error(`ValueError: status line ${status}`);
    return {
      status: Number.parseInt(fields[1] ?? '', 10),
      json: JSON.parse(Buffer.from(body, 'latin1').toString('utf8')) as unknown,
    };
  });
}

/** Runs test/clients/google_batch.py against an app, as `batch` or `direct`. */
async function googleClient(app: TestApp, mode: 'batch' | 'direct'): Promise<unknown[]> {
  const { stdout } = await run(PYTHON, [join(here, 'clients/google_batch.py'), baseOf(app), mode], {
    timeout: 15_000,
  });
  return JSON.parse(stdout) as unknown[];
}

/** Fastify routes `/v1/` (where fbgraph posts) to `/v1` only with ignoreTrailingSlash. */
function trailingSlashTolerant(platform: Platform): Platform {
  if (platform.name === 'express') return platform;
  return {
    name: 'fastify',
    create: () => new FastifyAdapter({ routerOptions: { ignoreTrailingSlash: true } }),
  };
}

forEachPlatform((platform) => {
  describe('published batch clients, unchanged, against the same requests sent one by one', () => {
    it("Flask-Batch's client: its captured bytes get the status, JSON and order it would parse", async () => {
      const apps = await twoApps();
      await closing(apps, async () => {
        const [batchApp, directApp] = apps;
        const captured = readFileSync(join(here, 'fixtures/clients/flask-batch.request.http'));
        const headEnd = captured.indexOf('\r\n\r\n');
        const headers = Object.fromEntries(
          captured
            .subarray(0, headEnd)
            .toString('latin1')
            .split('\r\n')
            .slice(1)
            .map((line) => [
              line.slice(0, line.indexOf(':')).toLowerCase(),
              line.slice(line.indexOf(':') + 1).trim(),
            ])
            // The capture server's address and connection; the body goes byte for byte.
            .filter(([name]) => !['host', 'content-length', 'connection'].includes(name ?? '')),
        ) as Record<string, string>;
        const reply = await rawRequest(batchApp, { headers, body: captured.subarray(headEnd + 4) });
        expect(reply.status).toBe(200);
        const answers = flaskBatchDecode(String(reply.headers['content-type']), reply.body);
        const expected = await direct(directApp, [
          { method: 'POST', path: '/items', json: { name: 'flask', qty: 1 } },
          { method: 'PATCH', path: '/items/1', json: { qty: 2 } },
          { method: 'PATCH', path: '/items/999', json: { qty: 3 } },
          { method: 'POST', path: '/items', json: { qty: -1 } },
          { method: 'PUT', path: '/items/7', json: { name: 'put' } },
        ]);
        expect(expected.map((answer) => answer.status)).toEqual([201, 200, 404, 400, 200]);
        expect(answers).toEqual(expected);
      });
    });

    itWithGooglePython(
      "Google's Python client (python3-googleapi): every callback gets what the direct request gets",
      async () => {
        const apps = await twoApps();
        await closing(apps, async () => {
          const [batched, one] = await Promise.all([
            googleClient(apps[0], 'batch'),
            googleClient(apps[1], 'direct'),
          ]);
          expect(batched).toEqual(one);
          expect(batched).toMatchObject([
            { id: 'create', status: 'ok', response: { id: 2, name: 'google', qty: 1 } },
            { id: 'seed', status: 'ok', response: { id: 1, name: 'seed' } },
            { id: 'missing', status: 404 },
            { id: 'invalid', status: 400 },
            { id: 'delete', status: 'ok', response: {} },
          ]);
        });
      },
    );

    it('fbgraph (npm): its form without Content-Type is the Facebook format; entries as direct', async () => {
      const options = { batch: { path: 'v1' }, platform: trailingSlashTolerant(platform) };
      const apps = await twoApps(options);
      await closing(apps, async () => {
        graph.setGraphUrl(baseOf(apps[0]));
        graph.setVersion('1');
        const batch = [
          {
            method: 'POST',
            relative_url: 'items',
            body: 'name=fb&qty=2',
            name: 'create',
            omit_response_on_success: false,
          },
          { method: 'GET', relative_url: 'items/{result=create:$.id}', depends_on: 'create' },
          { method: 'GET', relative_url: 'items/999' },
        ];
        const entries = await new Promise<{ code: number; body: string }[]>((resolve, reject) => {
          graph.batch(batch, (error: unknown, result: unknown) => {
            if (error) reject(new Error(JSON.stringify(error)));
            else resolve(result as { code: number; body: string }[]);
          });
        });
        const answers = entries.map((entry) => ({
          status: entry.code,
          json: JSON.parse(entry.body) as unknown,
        }));
        expect(answers).toEqual(
          await direct(apps[1], [
            { method: 'POST', path: '/items', form: 'name=fb&qty=2' },
            { method: 'GET', path: '/items/2' },
            { method: 'GET', path: '/items/999' },
          ]),
        );
      });
    });

    describe('odata-batch-request (npm, OData 4.0 multipart)', () => {
      const options = { batch: { path: '$batch' } };

      it('runs its operations, relative targets included, and parses the reply as the direct requests', async () => {
        const apps = await twoApps(options);
        await closing(apps, async () => {
          const request = new ODataBatchRequest(baseOf(apps[0]), [
            new ODataBatchOperation('get', 'items/1'),
            new ODataBatchOperation('post', 'items', {
              headers: { 'Content-Type': 'application/json' },
              body: JSON.stringify({ name: 'odata' }),
            }),
            new ODataBatchOperation('get', '/items/999'),
          ]);
          const reply = await sendODataBatch(request);
          expect(reply.status).toBe(200);
          const parsed = request.parseResponse(reply.text, reply.type);
          const answers = parsed.operations.map((operation) => {
            const { status, body } = operation as { status: number; body: string };
            return { status, json: JSON.parse(body) as unknown };
          });
          expect(answers).toEqual(
            await direct(apps[1], [
              { method: 'GET', path: '/items/1' },
              { method: 'POST', path: '/items', json: { name: 'odata' } },
              { method: 'GET', path: '/items/999' },
            ]),
          );
          expect(parsed.hasError).toBe(true);
        });
      });

      it('gets a 400 naming the transaction option for a change set when none is set; nothing runs', async () => {
        const apps = await twoApps(options);
        await closing(apps, async () => {
          const create = new ODataBatchOperation('post', 'items', {
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ name: 'atomic' }),
          });
          const request = new ODataBatchRequest(baseOf(apps[0]), [
            new ODataBatchChangeset([
              create,
              new ODataBatchOperation('patch', [create, ''], {
                headers: { 'Content-Type': 'application/json' },
                body: JSON.stringify({ qty: 2 }),
              }),
            ]),
          ]);
          const reply = await sendODataBatch(request);
          expect(reply.status).toBe(400);
          expect(reply.text).toMatch(/atomic-groups-unavailable/);
          expect(reply.text).toMatch(/`transaction` option/);
          const items = await apps[0].http.get('/items').expect(200);
          expect(items.body).toHaveLength(1);
        });
      });
    });
  });
});
