import { ODataBatchChangeset, ODataBatchOperation, ODataBatchRequest } from 'odata-batch-request';
import pg from 'pg';
import { startAtomicApp, type AtomicApp, type AtomicAppOptions } from './utils/atomic-app.js';
import { sendODataBatch } from './utils/odata.js';
import { forEachPlatform } from './utils/platforms.js';
import {
  createDatabase,
  postgresBinaries,
  rowNames,
  startPostgres,
  type TestPostgres,
} from './utils/postgres.js';
import { until } from './utils/wait-for.js';

const bin = postgresBinaries();
if (!bin) {
  // CI installs Debian's `postgresql` (.ci/run): there, its absence is a failure.
  if (process.env.CI) throw new Error('atomic-bounds: no PostgreSQL binaries (initdb, pg_ctl)');
  console.warn(
    'atomic-bounds: no PostgreSQL binaries (initdb, pg_ctl): suite skipped; `apt-get install postgresql` runs it',
  );
}
const describeWithPostgres = bin ? describe : describe.skip;

/** Transactions open on the database, other than the asking connection's. */
async function openTransactions(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ open: number }>(
      `SELECT count(*)::int AS open FROM pg_stat_activity
       WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL`,
    );
    return rows[0]?.open ?? 0;
  } finally {
    await client.end();
  }
}

interface Held {
  waiting: number;
  most: number;
  released: number;
}
async function held(t: AtomicApp, key: string): Promise<Held> {
  return (await t.http.get(`/rows/held/${key}`).expect(200)).body as Held;
}

function codes(response: { body: unknown }): (number | undefined)[] {
  return (response.body as { data: ({ code: number } | null)[] }).data.map((entry) => entry?.code);
}

describeWithPostgres('what a batch may hold of the database (PostgreSQL, pool of 10)', () => {
  let server: TestPostgres | undefined;
  let databases = 0;
  beforeAll(async () => {
    server = await startPostgres(bin as string);
  }, 60_000);
  afterAll(() => server?.stop());

  async function withApp(
    options: Omit<AtomicAppOptions, 'database'>,
    test: (t: AtomicApp, url: string) => Promise<void>,
  ): Promise<void> {
    const url = await createDatabase(
      (server as TestPostgres).url,
      `bounds_${options.platform.name}_${++databases}`,
    );
    const t = await startAtomicApp({ ...options, database: url });
    try {
      await test(t, url);
    } finally {
      await t.stop();
    }
  }

  forEachPlatform((platform) => {
    it('opens one group of a batch at a time, two across five batches, and a direct read answers meanwhile', async () => {
      await withApp({ platform }, async (t, url) => {
        // Each group writes, then waits, touching no database, until the test releases it.
        const hostile = (batch: number) =>
          Array.from({ length: 10 }, (_, group) => [
            {
              method: 'POST',
              url: '/rows',
              atomicityGroup: `g${group}`,
              body: { name: `b${batch}-g${group}` },
            },
            { method: 'GET', url: `/rows/hold/b${batch}`, atomicityGroup: `g${group}` },
          ]).flat();
        // `then` sends each now, all five at once.
        const batches = [0, 1, 2, 3, 4].map((batch) =>
          t.http
            .post('/batch')
            .send({ data: hostile(batch) })
            .then((response) => response),
        );
        let readWhileHeld = false;
        while ((await held(t, 'all')).released < 50) {
          await until(async () => (await held(t, 'all')).waiting > 0, 'a member waits on the pool');
          if (!readWhileHeld) {
            await t.http.get('/rows/count').expect(200);
            readWhileHeld = true;
          }
          await t.http.post('/rows/release/all').expect(200);
        }
        for (const response of await Promise.all(batches)) {
          expect(response.status).toBe(200);
          expect(new Set(codes(response))).toEqual(new Set([201, 200]));
        }
        for (const batch of [0, 1, 2, 3, 4]) expect((await held(t, `b${batch}`)).most).toBe(1);
        expect((await held(t, 'all')).most).toBe(2);
        expect(await rowNames(url)).toHaveLength(50);
      });
    });

    it('opens one OData change set of a batch at a time', async () => {
      await withApp({ platform }, async (t, url) => {
        const changeSets = Array.from(
          { length: 10 },
          (_, n) =>
            new ODataBatchChangeset([
              new ODataBatchOperation('post', '/rows', {
                headers: { 'Content-Type': 'application/json' },
                body: JSON.stringify({ name: `cs${n}` }),
              }),
              new ODataBatchOperation('get', '/rows/hold/cs'),
            ]),
        );
        const request = new ODataBatchRequest(t.base, changeSets);
        const sent = sendODataBatch({
          url: `${t.base}/batch`,
          headers: request.headers,
          body: request.body,
        });
        while ((await held(t, 'cs')).released < 10) {
          await until(
            async () => (await held(t, 'cs')).waiting > 0,
            'a change-set member waits on the pool',
          );
          await t.http.post('/rows/release/cs').expect(200);
        }
        expect((await sent).status).toBe(200);
        expect((await held(t, 'cs')).most).toBe(1);
        expect(await rowNames(url)).toHaveLength(10);
      });
    });

    // The stubborn member comes first and waits until the test releases it: it is the only one
    // that can be running when the limit fires, however slow the machine. The member after it
    // never starts (424); the row the stubborn one wrote before the cut is rolled back. The limit
    // leaves room for that one write to land before it fires.
    it.each([
      ['the group time limit', { groupTimeout: 1000 }, [504, 424]],
      ['its operation timeout', { operationTimeout: 1000 }, [504, 424]],
      ['the batch timeout', { timeout: 1000 }, [undefined, undefined]],
    ])(
      'ends the transaction at %s though a member ignores the abort; what it writes afterwards fails and nothing lands',
      async (_cut, batch, expected) => {
        await withApp({ platform, batch }, async (t, url) => {
          const response = await t.http
            .post('/batch')
            .send({
              data: [
                { method: 'POST', url: '/rows/stubborn/s', atomicityGroup: 'g' },
                { method: 'POST', url: '/rows', atomicityGroup: 'g', body: { name: 'a' } },
              ],
            })
            .expect(200);
          expect(codes(response)).toEqual(expected);
          // The member still runs in the app, and its transaction is already over.
          await until(async () => (await openTransactions(url)) === 0, 'no transaction open');
          expect((await held(t, 's')).waiting).toBe(1);
          await t.http.post('/rows/release/s').expect(200);
          await until(
            async () => (await t.http.get('/rows/stubborn/s')).body.done === true,
            'the stubborn member has ended',
          );
          expect((await t.http.get('/rows/stubborn/s')).body).toMatchObject({
            wrote: false,
            error: expect.stringMatching(/released/i),
          });
          expect(await rowNames(url)).toEqual([]);
        });
      },
    );

    it('holds a row lock taken in a group no longer than the group time limit, though the member holding it ignores the abort', async () => {
      await withApp({ platform, batch: { groupTimeout: 1000 } }, async (t, url) => {
        const { id } = (await t.http.post('/rows').send({ name: 'x' }).expect(201)).body as {
          id: number;
        };
        const response = await t.http
          .post('/batch')
          .send({
            // One member takes the row lock and then waits on the hold: it is the only one that
            // can be running when the limit fires, however slow the machine.
            data: [
              {
                method: 'PATCH',
                url: `/rows/${id}/name/hold/lock`,
                atomicityGroup: 'lock',
                body: { name: 'locked' },
              },
              { method: 'GET', url: '/rows/count', atomicityGroup: 'lock' },
            ],
          })
          .expect(200);
        expect(codes(response)).toEqual([504, 424]);
        expect((response.body as { data: { body: unknown }[] }).data[0]?.body).toMatchObject({
          reason: 'group-timeout',
          atomicityGroup: 'lock',
        });
        // The member that took the lock still waits, and the row is free.
        await t.http.patch(`/rows/${id}/name`).send({ name: 'direct' }).expect(200);
        expect((await held(t, 'lock')).waiting).toBe(1);
        await t.http.post('/rows/release/lock').expect(200);
        expect(await rowNames(url)).toEqual(['direct']);
      });
    });
  });
});
