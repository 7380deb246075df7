import Database from 'better-sqlite3';
import { ODataBatchChangeset, ODataBatchOperation, ODataBatchRequest } from 'odata-batch-request';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAtomicApp, type AtomicApp, type AtomicAppOptions } from './utils/atomic-app.js';
import { direct } from './utils/direct-view.js';
import { forEachPlatform } from './utils/platforms.js';
import { sendODataBatch } from './utils/odata.js';
import { until } from './utils/wait-for.js';

/** A SQLite database file of its own per test, read back through a connection of the test's. */
function sqliteFile(): {
  file: string;
  rows(): string[];
  /** Writes a row unless the database is locked (no busy wait): whether it did. */
  write(name: string): boolean;
  remove(): void;
} {
  const dir = mkdtempSync(join(tmpdir(), 'batch-atomic-'));
  const file = join(dir, 'db.sqlite');
  return {
    file,
    rows: () => {
      const db = new Database(file, { readonly: true, fileMustExist: true });
      try {
        const rows = db.prepare('SELECT name FROM row ORDER BY id').all() as { name: string }[];
        return rows.map((row) => row.name);
      } finally {
        db.close();
      }
    },
    write: (name) => {
      const db = new Database(file, { fileMustExist: true, timeout: 0 });
      try {
        db.prepare('INSERT INTO row (name) VALUES (?)').run(name);
        return true;
      } catch (error) {
        if ((error as { code?: string }).code === 'SQLITE_BUSY') return false;
        throw error;
      } finally {
        db.close();
      }
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

async function withDatabase(
  options: Omit<AtomicAppOptions, 'database'>,
  test: (t: AtomicApp, db: ReturnType<typeof sqliteFile>) => Promise<void>,
): Promise<void> {
  const db = sqliteFile();
  const t = await startAtomicApp({ ...options, database: db.file });
  try {
    await test(t, db);
  } finally {
    await t.stop();
    db.remove();
  }
}

/**
 * One app and database for the tests of a block that need no options of their own (each boot
 * of the app's process costs about a second): emptied before each test.
 */
function useSharedDatabase(
  platform: AtomicAppOptions['platform'],
): (test: (t: AtomicApp, db: ReturnType<typeof sqliteFile>) => Promise<void>) => Promise<void> {
  let current: { t: AtomicApp; db: ReturnType<typeof sqliteFile> } | undefined;
  beforeAll(async () => {
    const db = sqliteFile();
    current = { db, t: await startAtomicApp({ platform, database: db.file }) };
  });
  afterAll(async () => {
    await current?.t.stop();
    current?.db.remove();
  });
  return async (test) => {
    if (!current) throw new Error('the shared app is started in beforeAll');
    await current.t.http.delete('/rows').expect(200);
    await test(current.t, current.db);
  };
}

/** The rows the app's own connection sees: uncommitted ones too, on SQLite's one connection. */
async function appCount(t: AtomicApp): Promise<number> {
  return ((await t.http.get('/rows/count').expect(200)).body as { count: number }).count;
}

function postBatch(t: AtomicApp, data: unknown[], headers: Record<string, string> = {}) {
  return t.http.post('/batch').set(headers).send({ data });
}

function entries(response: { body: unknown }): ({ code: number; body?: any } | null)[] {
  return (response.body as { data: ({ code: number; body?: any } | null)[] }).data;
}

forEachPlatform((platform) => {
  describe('atomic groups on SQLite (TypeORM, better-sqlite3, @nestjs-cls/transactional)', () => {
    const shared = useSharedDatabase(platform);

    it('a group of three writes whose third fails leaves no row; a write outside it is committed', async () => {
      await shared(async (t, db) => {
        const response = await postBatch(t, [
          { method: 'POST', url: '/rows', name: 'outside', body: { name: 'outside' } },
          ...['a', 'b', 'fail-c'].map((name) => ({
            method: 'POST',
            url: '/rows',
            atomicityGroup: 'g',
            dependsOn: ['outside'],
            body: { name },
          })),
        ]).expect(200);
        const [outside, a, b, c] = entries(response);
        expect(outside?.code).toBe(201);
        expect(c?.code).toBe(409);
        for (const rolledBack of [a, b]) {
          expect(rolledBack?.code).toBe(424);
          expect(rolledBack?.body).toMatchObject({ reason: 'rolled-back', atomicityGroup: 'g' });
          expect(rolledBack?.body.message).toMatch(/operation 3 .*answered 409/);
        }
        // Read by a connection of the test's own, not the app's: what was committed.
        expect(db.rows()).toEqual(['outside']);
      });
    });

    it('commits a group whose member set 500 after its streamed 200 went out: the client read a 200', async () => {
      await shared(async (t, db) => {
        const response = await postBatch(t, [
          {
            method: 'POST',
            url: '/rows/streamed-then-failed',
            atomicityGroup: 'g',
            body: { name: 'streamed' },
          },
          { method: 'POST', url: '/rows', atomicityGroup: 'g', body: { name: 'after' } },
          { method: 'GET', url: '/rows/count', dependsOn: ['g'] },
        ]).expect(200);
        const [streamed, after, count] = entries(response);
        // What a direct client reads: the 200 status line, then the body to its end.
        expect(streamed).toMatchObject({ code: 200, body: 'partial;error' });
        expect(after?.code).toBe(201);
        expect(count?.code).toBe(200);
        expect(db.rows()).toEqual(['streamed', 'after']);
      });
    });

    it('a dependent of a rolled-back group names the member that failed, not one rolled back', async () => {
      await shared(async (t) => {
        const response = await postBatch(t, [
          { method: 'POST', url: '/rows', name: 'a', atomicityGroup: 'g', body: { name: 'a' } },
          { method: 'POST', url: '/rows', atomicityGroup: 'g', body: { name: 'fail-b' } },
          { method: 'GET', url: '/rows/count', dependsOn: ['a'] },
          { method: 'GET', url: '/rows/count', dependsOn: ['g'] },
        ]).expect(200);
        const [a, failed, ...dependents] = entries(response);
        expect([a?.code, failed?.code]).toEqual([424, 409]);
        for (const dependent of dependents) {
          expect(dependent).toMatchObject({
            code: 424,
            body: { reason: 'dependency-failed', failedDependency: 1, atomicityGroup: 'g' },
          });
          expect(dependent?.body.message).toMatch(
            /was not run: its atomicity group "g" was rolled back: operation 1 answered 409$/,
          );
        }
      });
    });

    it('commits a group whose writes all succeed; @Transactional() and txHost.tx inside see its transaction', async () => {
      await shared(async (t, db) => {
        const response = await postBatch(t, [
          { method: 'POST', url: '/rows', name: 'a', atomicityGroup: 'g', body: { name: 'a' } },
          { method: 'POST', url: '/rows/service', atomicityGroup: 'g', body: { name: 'b' } },
          // A reference to an earlier member: its answer is known before the group ends.
          {
            method: 'PATCH',
            url: '/rows/{result=a:$.id}/name',
            atomicityGroup: 'g',
            body: { name: 'a2' },
          },
          { method: 'GET', url: '/rows/count', atomicityGroup: 'g' },
          { method: 'GET', url: '/rows/count', name: 'after', dependsOn: ['g'] },
        ]).expect(200);
        const [a, b, renamed, inside, after] = entries(response);
        expect([a?.code, b?.code, renamed?.code, inside?.code, after?.code]).toEqual([
          201, 201, 200, 200, 200,
        ]);
        expect(inside?.body).toEqual({ count: 2, inTransaction: true });
        expect(after?.body).toEqual({ count: 2, inTransaction: false });
        expect(db.rows()).toEqual(['a2', 'b']);
      });
    });

    it('a @Transactional(Mandatory) method outside a group finds no transaction: the group is what gives one', async () => {
      await shared(async (t, db) => {
        const response = await postBatch(t, [
          { method: 'POST', url: '/rows/service', body: { name: 'x' } },
        ]).expect(200);
        expect(entries(response)[0]?.code).toBe(500);
        expect(db.rows()).toEqual([]);
      });
    });

    it('gives each operation of a group its own CLS store, sharing only the transaction', async () => {
      await shared(async (t) => {
        const response = await postBatch(t, [
          { method: 'GET', url: '/rows/cls', atomicityGroup: 'g' },
          { method: 'GET', url: '/rows/cls', atomicityGroup: 'g' },
          { method: 'GET', url: '/rows/cls' },
        ]).expect(200);
        const [first, second, outside] = entries(response).map((entry) => entry?.body);
        expect(first).toMatchObject({ inTransaction: true });
        expect(second).toMatchObject({ inTransaction: true });
        expect(outside).toMatchObject({ inTransaction: false });
        // What the first operation left in its store is not in the second's.
        expect(second).not.toHaveProperty('left');
        expect(outside).not.toHaveProperty('left');
        const ids = [first.id, second.id, outside.id];
        expect(ids.every((id) => typeof id === 'string')).toBe(true);
        expect(new Set(ids).size).toBe(3);
      });
    });

    it('keeps the cookies of a rolled-back group from every later operation; a committed group passes its own on', async () => {
      // One unit at a time, in request order: each operation starts after the groups before it ended.
      await withDatabase({ platform, batch: { concurrency: 1 } }, async (t) => {
        const response = await postBatch(t, [
          { method: 'GET', url: '/rows/set-cookie/rb/ROLLEDBACK', atomicityGroup: 'bad' },
          { method: 'GET', url: '/rows/cookie', atomicityGroup: 'bad' },
          { method: 'POST', url: '/rows', atomicityGroup: 'bad', body: { name: 'fail-x' } },
          { method: 'GET', url: '/rows/set-cookie/ok/COMMITTED', atomicityGroup: 'good' },
          { method: 'GET', url: '/rows/cookie', atomicityGroup: 'good' },
          { method: 'GET', url: '/rows/cookie' },
        ]).expect(200);
        const [, badInside, failed, , goodInside, after] = entries(response);
        expect(failed?.code).toBe(409);
        // Inside its group, a member sees what the members before it set, as in its transaction.
        expect(badInside?.body).toMatchObject({ reason: 'rolled-back' });
        expect(goodInside?.body).toEqual({ cookie: 'ok=COMMITTED' });
        expect(after?.body).toEqual({ cookie: 'ok=COMMITTED' });
        expect(response.headers['set-cookie']).toEqual([expect.stringMatching(/^ok=COMMITTED;/)]);
      });
    });

    it.each([
      ['destroyed after its headers', 'set-cookie-aborted', 502],
      ['refused', 'set-cookie-refused', 409],
    ])(
      'keeps the cookies of a member %s from the reply and every later operation as it rolls back',
      async (_, route, code) => {
        await withDatabase({ platform, batch: { concurrency: 1 } }, async (t) => {
          const response = await postBatch(t, [
            { method: 'POST', url: '/rows', atomicityGroup: 'bad', body: { name: 'a' } },
            { method: 'GET', url: `/rows/${route}/sid/ROLLEDBACK`, atomicityGroup: 'bad' },
            { method: 'GET', url: '/rows/cookie' },
          ]).expect(200);
          const [written, failed, after] = entries(response);
          expect(written?.body).toMatchObject({ reason: 'rolled-back' });
          expect(failed?.code).toBe(code);
          expect(after?.body).toEqual({ cookie: null });
          expect(response.headers['set-cookie']).toBeUndefined();
        });
      },
    );

    it("leaves the browser's cookies, as the later operations', when a member that cleared them rolls back", async () => {
      await withDatabase({ platform, batch: { concurrency: 1 } }, async (t) => {
        const response = await postBatch(
          t,
          [
            { method: 'POST', url: '/rows', atomicityGroup: 'bad', body: { name: 'a' } },
            { method: 'GET', url: '/rows/logout-refused', atomicityGroup: 'bad' },
            { method: 'GET', url: '/rows/cookie' },
          ],
          { cookie: 'sid=KEPT' },
        ).expect(200);
        const [written, failed, after] = entries(response);
        expect(written?.body).toMatchObject({ reason: 'rolled-back' });
        expect(failed?.code).toBe(409);
        expect(after?.body).toEqual({ cookie: 'sid=KEPT' });
        expect(response.headers['clear-site-data']).toBeUndefined();
      });
    });

    it('refuses a group with 400 naming the transaction option when none is configured; nothing runs', async () => {
      await withDatabase({ platform, hook: false }, async (t, db) => {
        const response = await postBatch(t, [
          { method: 'POST', url: '/rows', body: { name: 'outside' } },
          { method: 'POST', url: '/rows', atomicityGroup: 'g', body: { name: 'a' } },
        ]).expect(400);
        expect(response.body).toMatchObject({ reason: 'atomic-groups-unavailable' });
        expect((response.body.message as string[]).join('\n')).toMatch(/`transaction` option/);
        expect(db.rows()).toEqual([]);
      });
    });

    it('rolls back a group cut off by the batch timeout', async () => {
      await withDatabase({ platform, batch: { timeout: 500 } }, async (t, db) => {
        const response = await postBatch(t, [
          { method: 'POST', url: '/rows', atomicityGroup: 'g', body: { name: 'a' } },
          { method: 'POST', url: '/rows', atomicityGroup: 'g', body: { name: 'b' } },
          { method: 'GET', url: '/rows/slow', atomicityGroup: 'g' },
        ]).expect(200);
        expect(entries(response)).toEqual([null, null, null]);
        // Both writes were made, inside the transaction, before the cut.
        expect((await t.http.get('/rows/probe')).body).toMatchObject({ started: true, seen: 2 });
        await until(async () => (await appCount(t)) === 0, 'the group rolled its rows back');
        expect(db.rows()).toEqual([]);
      });
    });

    it.each([
      ['the group time limit', { groupTimeout: 300 }, [504]],
      ['its operation timeout', { operationTimeout: 300 }, [504]],
      ['the batch timeout', { timeout: 300 }, [undefined]],
    ])(
      'ends the transaction at %s though a member ignores the abort; what it writes afterwards fails and nothing lands',
      async (_cut, batch, codes) => {
        await withDatabase({ platform, batch, hook: 'sqlite-connection' }, async (t, db) => {
          const response = await postBatch(t, [
            { method: 'POST', url: '/rows/stubborn/s', atomicityGroup: 'g' },
          ]).expect(200);
          expect(entries(response).map((entry) => entry?.code)).toEqual(codes);
          // The member still runs in the app, and the group's write lock is already released.
          await until(() => db.write('direct'), 'the group released its write lock');
          expect((await t.http.get('/rows/held/s')).body).toMatchObject({ waiting: 1 });
          await t.http.post('/rows/release/s').expect(200);
          await until(
            async () => (await t.http.get('/rows/stubborn/s')).body.done === true,
            'the stubborn member has ended',
          );
          expect((await t.http.get('/rows/stubborn/s')).body).toMatchObject({
            wrote: false,
            error: expect.stringMatching(/not open/),
          });
          expect(db.rows()).toEqual(['direct']);
        });
      },
    );

    it("rolls back a group whose member the server's idle timeout dropped, as it drops the request directly", async () => {
      await withDatabase({ platform, idleTimeout: 400 }, async (t, db) => {
        // Directly, a request silent past the limit is dropped before its headers.
        expect(await direct(t.base, '/rows/sleep/1200')).toEqual({
          kind: 'dropped-before-headers',
        });
        const response = await postBatch(t, [
          { method: 'POST', url: '/rows', atomicityGroup: 'g', body: { name: 'a' } },
          { method: 'GET', url: '/rows/sleep/1200', atomicityGroup: 'g' },
        ]).expect(200);
        const [written, dropped] = entries(response);
        expect(dropped).toMatchObject({ code: 502, body: { reason: 'response-aborted' } });
        expect(written).toMatchObject({
          code: 424,
          body: { reason: 'rolled-back', atomicityGroup: 'g', failedOperation: 1 },
        });
        // The app's own connection sees uncommitted rows too: none is left once rolled back.
        await until(async () => (await appCount(t)) === 0, 'the group rolled its rows back');
        expect(db.rows()).toEqual([]);
      });
    });

    it('rolls back a group whose client disconnects', async () => {
      await shared(async (t, db) => {
        const gone = new AbortController();
        const sent = fetch(`${t.base}/batch`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            data: [
              { method: 'POST', url: '/rows', atomicityGroup: 'g', body: { name: 'a' } },
              { method: 'GET', url: '/rows/slow', atomicityGroup: 'g' },
            ],
          }),
          signal: gone.signal,
        }).catch((error: unknown) => error);
        await until(
          async () => (await t.http.get('/rows/probe')).body.started === true,
          'the probe has started',
        );
        expect((await t.http.get('/rows/probe')).body).toMatchObject({ seen: 1 });
        gone.abort();
        expect(await sent).toMatchObject({ name: 'AbortError' });
        await until(async () => (await appCount(t)) === 0, 'the group rolled its rows back');
        expect((await t.http.get('/rows/probe')).body).toMatchObject({ closed: true });
        expect(db.rows()).toEqual([]);
      });
    });

    it('Microsoft Graph / OData JSON: atomicityGroup, dependsOn naming the group, each response tagged', async () => {
      await shared(async (t, db) => {
        const response = await t.http
          .post('/batch')
          .send({
            requests: [
              { id: '1', atomicityGroup: 'g1', method: 'POST', url: '/rows', body: { name: 'a' } },
              { id: '2', atomicityGroup: 'g1', method: 'POST', url: '/rows', body: { name: 'b' } },
              { id: '3', dependsOn: ['g1'], method: 'GET', url: '/rows/count' },
              { id: '4', atomicityGroup: 'g2', method: 'POST', url: '/rows', body: { name: 'c' } },
              {
                id: '5',
                atomicityGroup: 'g2',
                dependsOn: ['g1'],
                method: 'POST',
                url: '/rows',
                body: { name: 'fail-d' },
              },
            ],
          })
          .expect(200);
        const byId = Object.fromEntries(
          (response.body.responses as { id: string }[]).map((entry) => [entry.id, entry]),
        );
        expect(byId['1']).toMatchObject({ status: 201, atomicityGroup: 'g1' });
        expect(byId['2']).toMatchObject({ status: 201, atomicityGroup: 'g1' });
        expect(byId['3']).toMatchObject({ status: 200, body: { count: 2 } });
        expect(byId['3']).not.toHaveProperty('atomicityGroup');
        expect(byId['4']).toMatchObject({ status: 424, atomicityGroup: 'g2' });
        expect(byId['5']).toMatchObject({ status: 409, atomicityGroup: 'g2' });
        expect(db.rows()).toEqual(['a', 'b']);
      });
    });

    it('OData JSON: a $<id> url names the entity an earlier request created (its Location)', async () => {
      await shared(async (t, db) => {
        const response = await t.http
          .post('/batch')
          .send({
            requests: [
              { id: '1', atomicityGroup: 'g', method: 'post', url: '/rows', body: { name: 'a' } },
              {
                id: '2',
                atomicityGroup: 'g',
                dependsOn: ['1'],
                method: 'patch',
                url: '$1/name',
                body: { name: 'renamed' },
              },
            ],
          })
          .expect(200);
        const [created, renamed] = response.body.responses as { status: number; body: any }[];
        expect(created?.status).toBe(201);
        expect(renamed).toMatchObject({
          status: 200,
          body: { id: created?.body.id, name: 'renamed' },
        });
        expect(db.rows()).toEqual(['renamed']);
      });
    });

    it('refuses a group name shared with a request id, and a dependency on a later member', async () => {
      await shared(async (t) => {
        const clash = await t.http
          .post('/batch')
          .send({
            requests: [
              { id: 'g', atomicityGroup: 'g', method: 'GET', url: '/rows/count' },
              { id: '2', atomicityGroup: 'g', dependsOn: ['3'], method: 'GET', url: '/rows/count' },
              { id: '3', atomicityGroup: 'g', method: 'GET', url: '/rows/count' },
            ],
          })
          .expect(400);
        const message = (clash.body.message as string[]).join('\n');
        expect(message).toMatch(/"g" names both an operation and an atomicity group/);
        expect(message).toMatch(/later operation 2 \("3"\) of its atomicity group "g"/);
      });
    });

    describe('odata-batch-request (npm) change sets', () => {
      it('commits a change set, $1 naming the row its first request created, and answers each by its Content-ID', async () => {
        await shared(async (t, db) => {
          const create = new ODataBatchOperation('post', '/rows', {
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ name: 'a' }),
          });
          const request = new ODataBatchRequest(t.base, [
            new ODataBatchChangeset([
              create,
              new ODataBatchOperation('patch', [create, 'name'], {
                headers: { 'Content-Type': 'application/json' },
                body: JSON.stringify({ name: 'renamed' }),
              }),
              new ODataBatchOperation('post', '/rows/service', {
                headers: { 'Content-Type': 'application/json' },
                body: JSON.stringify({ name: 'b' }),
              }),
            ]),
            new ODataBatchOperation('get', '/rows/count'),
          ]);
          const reply = await sendODataBatch({
            url: `${t.base}/batch`,
            headers: request.headers,
            body: request.body,
          });
          expect(reply.status).toBe(200);
          const parsed = request.parseResponse(reply.text, reply.type);
          const [changeSet, count] = parsed.operations as unknown as [
            { status: number; body: string }[],
            { status: number },
          ];
          expect(changeSet.map((response) => response.status)).toEqual([201, 200, 201]);
          const created = JSON.parse(changeSet[0]?.body ?? '') as { id: number };
          expect(JSON.parse(changeSet[1]?.body ?? '')).toEqual({ id: created.id, name: 'renamed' });
          expect(JSON.parse(changeSet[2]?.body ?? '')).toMatchObject({ name: 'b' });
          expect(count.status).toBe(200);
          expect(parsed.hasError).toBe(false);
          expect(db.rows()).toEqual(['renamed', 'b']);
        });
      });

      it('answers a failed change set with the one failed response and leaves no row', async () => {
        // One at a time: SQLite has one connection, so a write running beside an open
        // transaction would be part of it.
        await withDatabase({ platform, batch: { concurrency: 1 } }, async (t, db) => {
          const request = new ODataBatchRequest(t.base, [
            new ODataBatchOperation('post', '/rows', {
              headers: { 'Content-Type': 'application/json' },
              body: JSON.stringify({ name: 'outside' }),
            }),
            new ODataBatchChangeset([
              new ODataBatchOperation('post', '/rows', {
                headers: { 'Content-Type': 'application/json' },
                body: JSON.stringify({ name: 'a' }),
              }),
              new ODataBatchOperation('post', '/rows', {
                headers: { 'Content-Type': 'application/json' },
                body: JSON.stringify({ name: 'fail-b' }),
              }),
            ]),
          ]);
          const reply = await sendODataBatch({
            url: `${t.base}/batch`,
            headers: request.headers,
            body: request.body,
          });
          expect(reply.status).toBe(200);
          const parsed = request.parseResponse(reply.text, reply.type);
          const [outside, changeSet] = parsed.operations as unknown as [
            { status: number },
            { status: number; body: string; changeset?: unknown },
          ];
          expect(outside.status).toBe(201);
          expect(changeSet.changeset).toBeDefined(); // the client's failed-change-set shape
          expect(changeSet.status).toBe(409);
          expect(JSON.parse(changeSet.body)).toMatchObject({ message: 'row "fail-b" conflicts' });
          expect(parsed.hasError).toBe(true);
          expect(db.rows()).toEqual(['outside']);
        });
      });
    });
  });
});
