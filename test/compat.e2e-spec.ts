import { forEachPlatform } from './utils/platforms.js';
import { multipartBody, multipartParts, rawRequest } from './utils/raw-http.js';
import { sideEffects, useTestApp } from './utils/test-app.js';

/** What published batch clients send that no hand-written test did. */
forEachPlatform(() => {
  const t = useTestApp();
  const multipart = { 'content-type': 'multipart/mixed; boundary=b' };

  describe('multipart/mixed, as clients write their embedded requests', () => {
    it('ignores connection and framing headers inside a part, as Flask-Batch copies them from requests', async () => {
      const body = multipartBody('b', [
        {
          http: [
            'POST /echo HTTP/1.1',
            'Connection: keep-alive',
            'Keep-Alive: timeout=5',
            'Proxy-Connection: keep-alive',
            'TE: trailers',
            'Upgrade: h2c',
            'Transfer-Encoding: chunked',
            // Wrong on purpose: the part's boundary, not this, ends the body.
            'Content-Length: 999',
            'Content-Type: application/json',
            '',
            '{"name":"flask"}',
          ].join('\r\n'),
        },
      ]);
      const reply = await rawRequest(t, { headers: multipart, body });
      expect(reply.status).toBe(200);
      const [part] = multipartParts(reply.headers['content-type'], reply.body);
      expect(part?.code).toBe(200);
      const echoed = JSON.parse(part?.body.toString('utf8') ?? '') as {
        body: unknown;
        headers: Record<string, string>;
      };
      expect(echoed.body).toEqual({ name: 'flask' });
      expect(echoed.headers['content-length']).toBe('16');
      for (const name of ['keep-alive', 'proxy-connection', 'te', 'upgrade', 'transfer-encoding']) {
        expect(echoed.headers).not.toHaveProperty(name);
      }
      expect(echoed.headers.connection ?? 'keep-alive').not.toBe('h2c');
    });

    it('still refuses a framing header given in a native operation', async () => {
      const reply = await t.http
        .post('/batch')
        .send({ data: [{ method: 'GET', url: '/echo', headers: { connection: 'keep-alive' } }] })
        .expect(400);
      expect(reply.text).toMatch(/header \\"connection\\" is set by the batch endpoint/);
    });

    it('echoes each Content-ID in the form the request used: <response-id> when bracketed, bare as sent', async () => {
      const body = multipartBody('b', [
        { headers: ['Content-ID: <0b7bd1e3-3a37 + 1>'], http: 'GET /echo HTTP/1.1\r\n' },
        { headers: ['Content-ID: plain'], http: 'GET /echo HTTP/1.1\r\n' },
        { http: 'GET /echo HTTP/1.1\r\n' },
      ]);
      const reply = await rawRequest(t, { headers: multipart, body });
      expect(reply.status).toBe(200);
      const ids = multipartParts(reply.headers['content-type'], reply.body).map(
        (part) => /Content-ID: (.*)/.exec(part.outer)?.[1],
      );
      expect(ids).toEqual(['<response-0b7bd1e3-3a37 + 1>', 'plain', 'response-3']);
    });

    it('sends a body-less part as the direct request would: without the Content-Type its MIME headers carry', async () => {
      await t.http.post('/items').send({ name: 'doomed' }).expect(201);
      const body = multipartBody('b', [
        {
          headers: ['Content-ID: <x + 1>'],
          http: 'DELETE /items/1 HTTP/1.1\r\nContent-Type: application/json\r\nMIME-Version: 1.0\r\n',
        },
        {
          headers: ['Content-ID: <x + 2>'],
          http: 'GET /echo HTTP/1.1\r\nContent-Type: application/json\r\n',
        },
      ]);
      const reply = await rawRequest(t, { headers: multipart, body });
      const [deleted, echo] = multipartParts(reply.headers['content-type'], reply.body);
      expect(deleted?.code).toBe(204);
      expect(echo?.code).toBe(200);
      const echoed = JSON.parse(echo?.body.toString('utf8') ?? '') as {
        headers: Record<string, string>;
      };
      expect(echoed.headers).not.toHaveProperty('content-type');
    });

    it('refuses an OData change set with a 400 naming the transaction option when none is set, never a parse error; nothing runs', async () => {
      const body = [
        '--b',
        'Content-Type: application/http',
        '',
        'GET /echo HTTP/1.1',
        '',
        '--b',
        'Content-Type: multipart/mixed; boundary=cs',
        '',
        '--cs',
        'Content-Type: application/http',
        'Content-ID: 1',
        '',
        'POST /items HTTP/1.1',
        'Content-Type: application/json',
        '',
        '{"name":"in a change set"}',
        '--cs',
        'Content-Type: application/http',
        'Content-ID: 2',
        '',
        'PATCH $1 HTTP/1.1',
        'Content-Type: application/json',
        '',
        '{"qty":2}',
        '--cs--',
        '--b--',
        '',
      ].join('\r\n');
      const reply = await rawRequest(t, { headers: multipart, body });
      expect(reply.status).toBe(400);
      const message = reply.body.toString('utf8');
      expect(message).toMatch(/changeset-2/);
      expect(message).toMatch(/atomic-groups-unavailable/);
      expect(message).toMatch(/`transaction` option/);
      expect(message).not.toMatch(/Parse Error/);
      expect(sideEffects(t)).toBe(0);
    });

    it('names what is wrong inside a change set before anything else: a $-reference to an unknown Content-ID', async () => {
      const body = [
        '--b',
        'Content-Type: multipart/mixed; boundary=cs',
        '',
        '--cs',
        'Content-Type: application/http',
        'Content-ID: 1',
        '',
        'PATCH $7/qty HTTP/1.1',
        '',
        '--cs--',
        '--b--',
        '',
      ].join('\r\n');
      const reply = await rawRequest(t, { headers: multipart, body });
      expect(reply.status).toBe(400);
      expect(reply.body.toString('utf8')).toMatch(
        /\$7 names no earlier Content-ID of its change set/,
      );
    });
  });

  describe('a body without Content-Type', () => {
    const batch = JSON.stringify([{ method: 'GET', relative_url: 'echo?x=1' }]);

    it('is the Facebook form format when it is a form with a batch field, as fbgraph sends it', async () => {
      const reply = await rawRequest(t, {
        body: `access_token=&batch=${encodeURIComponent(batch)}`,
      });
      expect(reply.status).toBe(200);
      const [entry] = JSON.parse(reply.body.toString('utf8')) as { code: number; body: string }[];
      expect(entry?.code).toBe(200);
      expect(JSON.parse(entry?.body ?? '')).toMatchObject({ query: { x: '1' } });
    });

    it.each([
      ['JSON', JSON.stringify({ data: [{ method: 'GET', url: '/echo' }] })],
      ['a form without a batch field', 'access_token=x&requests=1'],
      ['text', 'hello'],
    ])('is refused with 415 when it is %s; nothing runs', async (_kind, body) => {
      const reply = await rawRequest(t, { body });
      expect(reply.status).toBe(415);
      expect(reply.body.toString('utf8')).toMatch(/without Content-Type/);
      expect(sideEffects(t)).toBe(0);
    });

    it('hands its operations no more credentials than the same form with its Content-Type', async () => {
      const cookieBatch = JSON.stringify([{ method: 'GET', relative_url: 'echo' }]);
      const seen = async (headers: Record<string, string>): Promise<unknown> => {
        const reply = await rawRequest(t, {
          headers: { cookie: 'session=victim', authorization: 'Bearer victim', ...headers },
          body: `batch=${encodeURIComponent(cookieBatch)}`,
        });
        expect(reply.status).toBe(200);
        const [entry] = JSON.parse(reply.body.toString('utf8')) as { body: string }[];
        const echoed = JSON.parse(entry?.body ?? '') as { headers: Record<string, string> };
        return [echoed.headers.cookie, echoed.headers.authorization];
      };
      const bare = await seen({});
      const form = await seen({ 'content-type': 'application/x-www-form-urlencoded' });
      expect(bare).toEqual(form);
    });
  });
});
