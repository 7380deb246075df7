import { startAtomicApp } from './utils/atomic-app.js';
import { forEachPlatform } from './utils/platforms.js';
import {
  createDatabase,
  postgresBinaries,
  rowNames,
  startPostgres,
  type TestPostgres,
} from './utils/postgres.js';
import { describeNeeding } from './utils/system-package.js';

const bin = postgresBinaries();
const describeWithPostgres = describeNeeding(bin !== undefined, 'apt-get install postgresql');

describeWithPostgres('atomic groups on PostgreSQL (TypeORM, pg, @nestjs-cls/transactional)', () => {
  let server: TestPostgres | undefined;
  beforeAll(async () => {
    server = await startPostgres(bin as string);
  }, 60_000);
  afterAll(() => server?.stop());

  forEachPlatform((platform) => {
    it('two concurrent groups do not see each other uncommitted writes; one commits, one rolls back', async () => {
      const url = await createDatabase((server as TestPostgres).url, `atomic_${platform.name}`);
      // The three groups must be open together (the app-wide default is two).
      const app = await startAtomicApp({
        platform,
        database: url,
        batch: { groupConcurrency: 3, globalGroupConcurrency: 3 },
      });
      const barrier = `/rows/barrier/${platform.name}/3`;
      try {
        const response = await app.http
          .post('/batch')
          .send({
            data: [
              // Each group writes, then waits until all three have written, then reads.
              { method: 'POST', url: barrier, atomicityGroup: 'A', body: { name: 'a' } },
              { method: 'POST', url: barrier, atomicityGroup: 'B', body: { name: 'b' } },
              { method: 'POST', url: '/rows', atomicityGroup: 'B', body: { name: 'fail-b' } },
              { method: 'POST', url: barrier, atomicityGroup: 'C', body: { name: 'c' } },
              { method: 'POST', url: '/rows', body: { name: 'outside' } },
            ],
          })
          .expect(200);
        const [a, b, failB, c, outside] = (response.body as { data: { code: number; body: any }[] })
          .data;
        expect([a?.code, b?.code, failB?.code, c?.code, outside?.code]).toEqual([
          201, 424, 409, 201, 201,
        ]);
        // Read while all three transactions were open: each group sees its own write only.
        expect(a?.body.seen).toContain('a');
        expect(a?.body.seen).not.toEqual(expect.arrayContaining(['b']));
        expect(a?.body.seen).not.toEqual(expect.arrayContaining(['c']));
        expect(c?.body.seen).toContain('c');
        expect(c?.body.seen).not.toEqual(expect.arrayContaining(['a']));
        expect(c?.body.seen).not.toEqual(expect.arrayContaining(['b']));
        expect(b?.body).toMatchObject({ reason: 'rolled-back', atomicityGroup: 'B' });
        // On the database, through a connection of the test's own.
        expect(await rowNames(url)).toEqual(['a', 'c', 'outside']);
      } finally {
        await app.stop();
      }
    });
  });
});
