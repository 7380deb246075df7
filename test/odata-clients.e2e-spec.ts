import { OData } from '@odata/client';
import Database from 'better-sqlite3';
import { o } from 'odata';
import type { BatchTransactionHook } from 'nestjs-batch';
import { forEachPlatform } from './utils/platforms.js';
import { baseOf } from './utils/raw-http.js';
import { createTestApp, type TestApp } from './utils/test-app.js';
import { TodoItemsModule } from './fixtures/todo-items.controller.js';

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
async function odataApp(batch: { multipartParallel?: boolean } = {}): Promise<ODataApp> {
  const db = new Database(':memory:');
  const app = await createTestApp({
    strictValidation: false,
    imports: [TodoItemsModule.on(db, ['one', 'two', 'three'])],
    batch: { path: 'odata/$batch', transaction: sqliteTransaction(db), ...batch },
  });
  return { ...app, db, root: `${baseOf(app)}/odata/` };
}

/** Two fresh apps alike: the batch goes to one, the same requests one by one to the other. */
async function withTwoApps(
  test: (batched: ODataApp, direct: ODataApp) => Promise<void>,
  batch: { multipartParallel?: boolean } = {},
): Promise<void> {
  const [batched, direct] = await Promise.all([odataApp(batch), odataApp(batch)]);
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

forEachPlatform(() => {
  describe('published OData clients, unchanged, against a service under /odata', () => {
    it('@odata/client, JSON batch: relative urls resolve against the service root, as sent one by one', async () => {
      await withTwoApps(async (batched, direct) => {
        const requests = (client: OData) => [
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
            json: (await response.json()) as unknown,
          })),
        );
        const one = OData.New4({ serviceEndpoint: direct.root });
        const expected = [];
        for (const request of requests(one)) {
          const { url, init } = await request;
          const response = await fetch(`${direct.root}${url}`, {
            method: init.method,
            headers: init.headers as Record<string, string>,
            body: init.method === 'GET' ? undefined : JSON.stringify(init.body),
          });
          expected.push({ status: response.status, json: (await response.json()) as unknown });
        }
        expect(expected.map((answer) => answer.status)).toEqual([201, 200]);
        expect(answers).toEqual(expected);
        expect(titles(batched.db)).toEqual(['one', 'two', 'three', 'four']);
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
  });
});
