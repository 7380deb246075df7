import { OData } from '@odata/client';
import Database from 'better-sqlite3';
import { o } from 'odata';
import odatajs from 'odatajs/index.js';
import type { BatchTransactionHook } from 'nestjs-batch';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { forEachPlatform } from './utils/platforms.js';
import { baseOf } from './utils/raw-http.js';
import { createTestApp, type TestApp } from './utils/test-app.js';
import { ReadBarrier, TodoItemsModule } from './fixtures/todo-items.controller.js';

/** An app serving the OData-ish TodoItems service under `/odata`, and its table. */
interface ODataApp extends TestApp {
  readonly db: Database.Database;
  /** The service root, as OData clients are given it: `http://127.0.0.1:<port>/odata/`. */
  readonly root: string;
}

/** BEGIN/COMMIT/ROLLBACK on the app's own SQLite connection: a change set is one transaction. */
function sqliteTransaction(db: Database.Database): BatchTransactionHook {
  return async (work) => {
    db.exec('BEGIN');
    try {
      await work();
    } catch (error) {
      db.exec('ROLLBACK');
      throw error;
    }
    db.exec('COMMIT');
  };
}

/** The service with three items, its batch endpoint at `/odata/$batch` as OData clients post. */
async function odataApp(
  batch: { multipartParallel?: boolean } = {},
  barrier?: ReadBarrier,
): Promise<ODataApp> {
  const db = new Database(':memory:');
  const app = await createTestApp({
    strictValidation: false,
    imports: [TodoItemsModule.on(db, ['one', 'two', 'three'], barrier)],
    batch: { path: 'odata/$batch', transaction: sqliteTransaction(db), ...batch },
  });
  return { ...app, db, root: `${baseOf(app)}/odata/` };
}

/** Two fresh apps alike: the batch goes to one, the same requests one by one to the other. */
async function withTwoApps(
  test: (batched: ODataApp, direct: ODataApp) => Promise<void>,
): Promise<void> {
  const [batched, direct] = await Promise.all([odataApp(), odataApp()]);
  try {
    await test(batched, direct);
  } finally {
    await Promise.all([batched.close(), direct.close()]);
    batched.db.close();
    direct.db.close();
  }
}

const titles = (db: Database.Database): string[] =>
  (db.prepare('SELECT title FROM todo ORDER BY id').all() as { title: string }[]).map(
    (row) => row.title,
  );

/**
 * Google's Python client (Debian's python3-googleapi) through test/clients/google_batch.py, its
 * `ordered` scenario: a PATCH and a GET of `TodoItems(1)`, batched or one by one.
 */
async function googleOrdered(app: ODataApp, mode: 'batch' | 'direct'): Promise<unknown> {
  const script = fileURLToPath(new URL('clients/google_batch.py', import.meta.url));
  const { stdout } = await promisify(execFile)(
    '/usr/bin/python3',
    [script, baseOf(app), mode, 'ordered'],
    { timeout: 15_000 },
  );
  return JSON.parse(stdout) as unknown;
}

/** One response of an odatajs batch, as its batchHandler gives it back. */
interface OlingoResponse {
  statusCode?: string;
  data?: unknown;
  message?: string;
  response?: { statusCode: string; body: string };
  __changeResponses?: OlingoResponse[];
}

/** Apache Olingo's odatajs in Node: `oData.request` with its batchHandler, as its docs show. */
function olingoBatch(root: string, requests: unknown[]): Promise<OlingoResponse[]> {
  return new Promise((resolve, reject) => {
    odatajs.oData.request(
      { requestUri: `${root}$batch`, method: 'POST', data: { __batchRequests: requests } },
      (data: { __batchResponses: OlingoResponse[] }) => resolve(data.__batchResponses),
      (error: unknown) => reject(error instanceof Error ? error : new Error(JSON.stringify(error))),
      odatajs.oData.batch.batchHandler,
    );
  });
}

/** What a response of an odatajs batch says: its status and its JSON, whichever way it came. */
function olingoAnswer(response: OlingoResponse): { status: number; json: unknown } {
  if (response.response) {
    return {
      status: Number(response.response.statusCode),
      json: JSON.parse(response.response.body),
    };
  }
  return { status: Number(response.statusCode), json: response.data };
}

forEachPlatform(() => {
  describe('published OData clients, unchanged, against a service under /odata', () => {
    it('@odata/client, JSON batch: relative urls resolve against the service root, as sent one by one', async () => {
      await withTwoApps(async (batched, direct) => {
        const requests = (client: ReturnType<typeof OData.New4>) => [
          client.newBatchRequest({
            collection: 'TodoItems',
            method: 'POST',
            entity: { Title: 'four' },
          }),
          client.newBatchRequest({ collection: 'TodoItems', id: 3 }),
        ];
        const client = OData.New4({ serviceEndpoint: batched.root });
        const responses = await client.execBatchRequestsJson(requests(client));
        const answers = await Promise.all(
          responses.map(async (response) => ({
            status: response.status,
            json: await response.json(),
          })),
        );
        const one = OData.New4({ serviceEndpoint: direct.root });
        const expected = [];
        for (const request of requests(one)) {
          // The request the client built, sent on its own to the same url under the root.
          const { url, init = {} } = await request;
          const response = await fetch(`${direct.root}${url}`, {
            method: init.method,
            headers: init.headers as Record<string, string>,
            body: init.method === 'GET' ? undefined : JSON.stringify(init.body),
          });
          expected.push({ status: response.status, json: await response.json() });
        }
        expect(expected.map((answer) => answer.status)).toEqual([201, 200]);
        expect(answers).toEqual(expected);
        expect(titles(batched.db)).toEqual(['one', 'two', 'three', 'four']);
      });
    });

    it('@odata/client, multipart: its change sets without Content-ID run; each answer as one by one', async () => {
      await withTwoApps(async (batched, direct) => {
        const client = OData.New4({ serviceEndpoint: batched.root });
        const responses = await client.execBatchRequests([
          client.newBatchRequest({
            collection: 'TodoItems',
            method: 'POST',
            entity: { Title: 'four' },
          }),
          client.newBatchRequest({
            collection: 'TodoItems',
            method: 'PATCH',
            id: 1,
            entity: { Title: 'uno' },
          }),
          client.newBatchRequest({ collection: 'TodoItems', id: 1 }),
        ]);
        const answers = await Promise.all(
          responses.map(async (response) => {
            // Its parser keeps the CRLF before the next boundary (RFC 2046 gives it to the
            // boundary): a 204's body is that CRLF.
            const text = (await response.text()).trim();
            return {
              status: response.status,
              json: text === '' ? undefined : (JSON.parse(text) as unknown),
            };
          }),
        );
        const expected = [];
        for (const [method, path, body] of [
          ['POST', 'TodoItems', { Title: 'four' }],
          ['PATCH', 'TodoItems(1)', { Title: 'uno' }],
          ['GET', 'TodoItems(1)'],
        ] as const) {
          const response = await fetch(`${direct.root}${path}`, {
            method,
            headers: { 'content-type': 'application/json' },
            body: body && JSON.stringify(body),
          });
          const text = await response.text();
          expected.push({
            status: response.status,
            json: text === '' ? undefined : (JSON.parse(text) as unknown),
          });
        }
        expect(expected.map((answer) => answer.status)).toEqual([201, 204, 200]);
        expect(answers).toEqual(expected);
      });
    });

    it('o.js (odata), multipart: a PATCH then a GET of the same item run in order; Content-IDs come back as sent', async () => {
      await withTwoApps(async (batched, direct) => {
        const patch = { Title: 'renamed' };
        const reply = (await o(batched.root)
          .patch('TodoItems(2)', patch)
          .get('TodoItems(2)')
          .batch()) as { contentId: number; status: number; body?: unknown }[];
        // o.js runs the same requests one after another, each its own request, without batch().
        const one = (await o(direct.root)
          .patch('TodoItems(2)', patch)
          .get('TodoItems(2)')
          .fetch()) as Response[];
        const expected = [];
        for (const [at, response] of one.entries()) {
          const text = await response.text();
          expected.push({
            contentId: at + 1,
            status: response.status,
            body: text === '' ? undefined : (JSON.parse(text) as unknown),
          });
        }
        expect(expected).toEqual([
          { contentId: 1, status: 204, body: undefined },
          { contentId: 2, status: 200, body: { Id: 2, Title: 'renamed', Done: false } },
        ]);
        expect(reply).toEqual(expected);
      });
    });

    it('odatajs (Apache Olingo), multipart: a change set without Content-IDs commits; parts run in order, after a failed one too', async () => {
      await withTwoApps(async (batched, direct) => {
        const reply = await olingoBatch(batched.root, [
          {
            __changeRequests: [
              { requestUri: 'TodoItems', method: 'POST', data: { Title: 'four' } },
              { requestUri: 'TodoItems(1)', method: 'PATCH', data: { Title: 'uno' } },
            ],
          },
          { requestUri: 'TodoItems(1)', method: 'GET' },
          { requestUri: 'TodoItems(99)', method: 'GET' },
          { requestUri: 'TodoItems', method: 'GET' },
        ]);
        const [changeSet, ...rest] = reply;
        const answers = [...(changeSet?.__changeResponses ?? []), ...rest].map(olingoAnswer);
        const expected = [];
        for (const [method, path, body] of [
          ['POST', 'TodoItems', { Title: 'four' }],
          ['PATCH', 'TodoItems(1)', { Title: 'uno' }],
          ['GET', 'TodoItems(1)'],
          ['GET', 'TodoItems(99)'],
          ['GET', 'TodoItems'],
        ] as const) {
          const response = await fetch(`${direct.root}${path}`, {
            method,
            headers: { 'content-type': 'application/json' },
            body: body && JSON.stringify(body),
          });
          const text = await response.text();
          expected.push({
            status: response.status,
            json: text === '' ? undefined : (JSON.parse(text) as unknown),
          });
        }
        expect(expected.map((answer) => answer.status)).toEqual([201, 204, 200, 404, 200]);
        expect(answers).toEqual(expected);
        expect(titles(batched.db)).toEqual(['uno', 'two', 'three', 'four']);
      });
    });

    it("Google's Python client, multipart: the GET after a PATCH of the same item sees it, as one by one", async () => {
      await withTwoApps(async (batched, direct) => {
        const [reply, one] = await Promise.all([
          googleOrdered(batched, 'batch'),
          googleOrdered(direct, 'direct'),
        ]);
        expect(one).toEqual([
          { id: 'patch', status: 'ok', response: {} },
          { id: 'read', status: 'ok', response: { Id: 1, Title: 'uno', Done: false } },
        ]);
        expect(reply).toEqual(one);
      });
    });

    it('runs multipart parts in parallel with multipartParallel, for Google-only deployments', async () => {
      // The PATCH writes only once the GET has read: it completes only if the two overlap. Run
      // in order, the PATCH would wait for a GET that starts after it, and fail (500) at the
      // barrier's bound.
      const batched = await odataApp({ multipartParallel: true }, new ReadBarrier(3_000));
      try {
        const reply = (await o(batched.root)
          .patch('TodoItems(2)', { Title: 'renamed' })
          .get('TodoItems(2)')
          .batch()) as { status: number; body?: unknown }[];
        // Started together, the GET answers while the PATCH still waits for its write.
        expect(reply.map((part) => part.status)).toEqual([204, 200]);
        expect(reply[1]?.body).toEqual({ Id: 2, Title: 'two', Done: false });
        expect(titles(batched.db)[1]).toBe('renamed');
      } finally {
        await batched.close();
        batched.db.close();
      }
    });
  });
});
