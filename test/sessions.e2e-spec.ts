import { CounterModule, mountSessions } from './fixtures/sessions.fixtures.js';
import { forEachPlatform } from './utils/platforms.js';
import { useTestApp } from './utils/test-app.js';

forEachPlatform((platform) => {
  describe.each([
    [
      'resave: true, saveUninitialized: true (the defaults)',
      { resave: true, saveUninitialized: true },
    ],
    ['resave: false, saveUninitialized: false', { resave: false, saveUninitialized: false }],
    [
      "rolling: true, unset: 'destroy'",
      { resave: true, saveUninitialized: true, rolling: true, unset: 'destroy' as const },
    ],
  ])(
    'session middleware app-wide (express-session %s; @fastify/session defaults)',
    (_, options) => {
      const t = useTestApp({
        imports: [CounterModule],
        configure: mountSessions(platform, { secret: 'test secret', ...options }),
      });

      it("keeps an operation's session write: the batch request does not save its stale copy over it", async () => {
        const browser = t.browser();
        await browser.post('/counter/bump').expect(200, { count: 1 });
        const batch = await browser
          .post('/batch')
          .send({ data: [{ method: 'POST', url: '/counter/bump' }] })
          .expect(200);
        expect((batch.body as { data: { body: unknown }[] }).data[0]?.body).toEqual({ count: 2 });
        await browser.get('/counter').expect(200, { count: 2 });
      });

      it('starts a session for a browser without one: the cookie the operation set is the one it keeps', async () => {
        const browser = t.browser();
        const batch = await browser
          .post('/batch')
          .send({
            data: [
              { method: 'POST', url: '/counter/bump', name: 'bump' },
              { method: 'GET', url: '/counter', dependsOn: ['bump'] },
            ],
          })
          .expect(200);
        const { data } = batch.body as { data: { body: unknown }[] };
        expect(data.map((entry) => entry.body)).toEqual([{ count: 1 }, { count: 1 }]);
        await browser.get('/counter').expect(200, { count: 1 });
      });
    },
  );
});
