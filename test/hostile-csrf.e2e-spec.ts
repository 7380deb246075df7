import { useTestApp, type TestApp } from './utils/test-app.js';
import { forEachPlatform } from './utils/platforms.js';

/**
 * A cross-site page can make a browser send a form POST (urlencoded,
 * multipart/form-data, text/plain, or no Content-Type) without a CORS preflight, with the
 * victim's cookie and cached HTTP auth attached. The operations of such a batch must not get
 * them; a JSON batch, which needs a preflight cross-site, still does.
 */
forEachPlatform(() => {
  const t = useTestApp();
  const ambient = { cookie: 'session=victim', authorization: 'Basic dmljdGltOnNlY3JldA==' };

  /** What /echo saw, for each operation of a Facebook reply (bodies are JSON strings). */
  function seenHeaders(reply: unknown): Record<string, unknown>[] {
    return (reply as { code: number; body: string }[]).map((entry) => {
      expect(entry.code).toBe(200);
      return (JSON.parse(entry.body) as { headers: Record<string, unknown> }).headers;
    });
  }

  const operations = [
    { method: 'POST', relative_url: 'echo', body: 'x=1' },
    { method: 'DELETE', relative_url: 'echo' },
  ];

  function postForm(app: TestApp, contentType: string) {
    const form = new URLSearchParams({ access_token: '', batch: JSON.stringify(operations) });
    return app.http
      .post('/batch')
      .set(ambient)
      .set('content-type', contentType)
      .send(form.toString())
      .expect(200);
  }

  it('gives the operations of a urlencoded form batch neither the cookie nor the authorization', async () => {
    const response = await postForm(t, 'application/x-www-form-urlencoded');
    for (const headers of seenHeaders(response.body)) {
      expect(headers).not.toHaveProperty('cookie');
      expect(headers).not.toHaveProperty('authorization');
      // Everything else is inherited as before.
      expect(headers).toHaveProperty('host');
    }
  });

  it('holds for any spelling of the form media type', async () => {
    const response = await postForm(t, 'Application/X-WWW-Form-Urlencoded ; charset=UTF-8');
    for (const headers of seenHeaders(response.body)) {
      expect(headers).not.toHaveProperty('cookie');
      expect(headers).not.toHaveProperty('authorization');
    }
  });

  it('refuses the batch, running nothing, when the browser says a page of another site (or a sibling subdomain) sent it', async () => {
    for (const site of ['cross-site', 'same-site']) {
      const form = new URLSearchParams({ batch: JSON.stringify(operations) });
      const response = await t.http
        .post('/batch')
        .set({ ...ambient, 'sec-fetch-site': site })
        .set('content-type', 'application/x-www-form-urlencoded')
        .send(form.toString())
        .expect(403);
      expect((response.body as { message: string }).message).toMatch(
        /another site's page .*needed no CORS preflight/,
      );
    }
    expect(t.recorder.count('echo')).toBe(0);
  });

  it("passes them on for a form the app's own page posted (Sec-Fetch-Site: same-origin)", async () => {
    const form = new URLSearchParams({ batch: JSON.stringify(operations) });
    const response = await t.http
      .post('/batch')
      .set({ ...ambient, 'sec-fetch-site': 'same-origin' })
      .set('content-type', 'application/x-www-form-urlencoded')
      .send(form.toString())
      .expect(200);
    for (const headers of seenHeaders(response.body)) expect(headers).toMatchObject(ambient);
  });

  it('still lets an operation set its own cookie: it is not ambient, the sender wrote it', async () => {
    const own = [{ method: 'GET', relative_url: 'echo', headers: ['Cookie: chosen=1'] }];
    const form = new URLSearchParams({ batch: JSON.stringify(own) });
    const response = await t.http
      .post('/batch')
      .set(ambient)
      .set('content-type', 'application/x-www-form-urlencoded')
      .send(form.toString())
      .expect(200);
    expect(seenHeaders(response.body)[0]).toMatchObject({ cookie: 'chosen=1' });
  });

  it('gives the operations of the same batch as JSON (preflighted cross-site) the cookie and authorization', async () => {
    const response = await t.http
      .post('/batch')
      .set(ambient)
      .send({ access_token: '', batch: operations })
      .expect(200);
    for (const headers of seenHeaders(response.body)) {
      expect(headers).toMatchObject(ambient);
    }
  });

  it.each([
    ['text/plain', 'batch=[{"method":"DELETE","relative_url":"echo"}]'],
    ['multipart/form-data; boundary=x', '--x\r\n\r\n--x--\r\n'],
  ])('runs nothing for a %s batch (not a batch format)', async (type, body) => {
    await t.http
      .post('/batch')
      .set(ambient)
      .set('content-type', type)
      .send(Buffer.from(body))
      .expect(415);
    expect(t.recorder.count('echo')).toBe(0);
  });

  it('reads a form without Content-Type as the Facebook form (as fbgraph sends it), its operations without ambient credentials', async () => {
    const request = t.http.post('/batch').set(ambient);
    const form = new URLSearchParams({ access_token: '', batch: JSON.stringify(operations) });
    // supertest sets no Content-Type for a Buffer body.
    const response = await request.send(Buffer.from(form.toString())).expect(200);
    const seen = seenHeaders(response.body);
    expect(seen.length).toBe(operations.length);
    for (const headers of seen) {
      expect(headers).not.toHaveProperty('cookie');
      expect(headers).not.toHaveProperty('authorization');
    }
  });
});
