import { AccountModule } from './fixtures/account.fixtures.js';
import { forEachPlatform } from './utils/platforms.js';
import { entries, postBatch, useTestApp } from './utils/test-app.js';

const login = { method: 'POST', url: '/account/login', name: 'login' };
const me = (dependsOn: string) => ({ method: 'GET', url: '/account/me', dependsOn: [dependsOn] });

forEachPlatform(() => {
  describe('cookies set by operations (a cookie jar per batch)', () => {
    const t = useTestApp({ imports: [AccountModule] });

    it('gives an operation the cookie one it depends on set, and puts Set-Cookie on the batch reply', async () => {
      const response = await postBatch(t, [login, me('login')]).expect(200);
      const [first, second] = entries(response);
      expect(second?.body).toMatchObject({ user: 'alice' });
      // The browser stores it from the batch reply; the entry, which script reads, has none.
      expect(response.headers['set-cookie']).toEqual(['sid=alice; Path=/; HttpOnly; SameSite=Lax']);
      expect(first?.headers['set-cookie']).toBeUndefined();
    });

    it('gives the cookie to an operation ordered by a reference, as by dependsOn', async () => {
      const response = await postBatch(t, [
        login,
        { method: 'GET', url: '/account/me?after={result=login:$.ok}' },
      ]).expect(200);
      expect(entries(response)[1]?.body).toMatchObject({ user: 'alice' });
    });

    it("lets a later operation's deletion (Max-Age=0) remove the batch request's own cookie", async () => {
      const response = await postBatch(
        t,
        [
          { method: 'GET', url: '/account/me', name: 'before' },
          { method: 'POST', url: '/account/logout', name: 'logout', dependsOn: ['before'] },
          me('logout'),
        ],
        { cookie: 'sid=bob; theme=dark' },
      ).expect(200);
      const [before, , after] = entries(response);
      expect(before?.body).toMatchObject({ user: 'bob' });
      expect(after?.body).toEqual({ user: null, cookies: { theme: 'dark' } });
      expect(response.headers['set-cookie']).toEqual(['sid=; Path=/; Max-Age=0; HttpOnly']);
    });

    it('keeps to Path and expiry as a browser does, and writes the default Path on the batch reply', async () => {
      const set = { method: 'POST', url: '/account/prefs/set', name: 'set' };
      const response = await postBatch(
        t,
        [
          set,
          { method: 'GET', url: '/account/prefs/read', dependsOn: ['set'] },
          { method: 'GET', url: '/account/me', dependsOn: ['set'] },
        ],
        { cookie: 'old=stale' },
      ).expect(200);
      const [, inPrefs, outside] = entries(response);
      expect(inPrefs?.body).toEqual({ scoped: '1', nopath: '1' });
      expect(outside?.body).toEqual({ user: null, cookies: {} });
      // Without a Path, a browser would take the batch url's default path: the one of the
      // operation's url is written out instead.
      expect(response.headers['set-cookie']).toEqual([
        'scoped=1; Path=/account/prefs',
        'nopath=1; Path=/account/prefs',
        'old=1; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT',
      ]);
    });

    it('never shares the jar across batches', async () => {
      await postBatch(t, [login]).expect(200);
      const response = await postBatch(t, [{ method: 'GET', url: '/account/me' }]).expect(200);
      expect(entries(response)[0]?.body).toMatchObject({ user: null });
    });

    it("leaves an operation's own Cookie header as it wrote it", async () => {
      const response = await postBatch(t, [
        login,
        {
          method: 'GET',
          url: '/account/me',
          dependsOn: ['login'],
          headers: { cookie: 'sid=own' },
        },
      ]).expect(200);
      expect(entries(response)[1]?.body).toMatchObject({ user: 'own' });
    });

    it("gives the operations of a form batch (sent cross-site without preflight) only the batch's own cookies", async () => {
      const batch = [
        { method: 'POST', relative_url: 'account/login', name: 'login' },
        { method: 'GET', relative_url: 'account/me', depends_on: 'login' },
        { method: 'GET', relative_url: 'account/prefs/read' },
      ];
      const response = await t.http
        .post('/batch')
        .set('cookie', 'sid=victim; theme=dark')
        .type('form')
        .send(`batch=${encodeURIComponent(JSON.stringify(batch))}`)
        .expect(200);
      const replies = response.body as ({ body: string } | null)[];
      expect(JSON.parse(replies[1]?.body ?? '')).toMatchObject({ user: 'alice' });
      // Run alongside the login, it may or may not have its cookie; never the victim's.
      const parallel = JSON.parse(replies[2]?.body ?? '') as Record<string, string>;
      expect(parallel).not.toHaveProperty('theme');
      expect(parallel.sid).not.toBe('victim');
    });
  });
});
