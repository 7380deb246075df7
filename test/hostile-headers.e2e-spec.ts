import { Controller, Get, Module, Req } from '@nestjs/common';
import { methodOverride } from './fixtures/method-override.middleware.js';
import { forEachPlatform } from './utils/platforms.js';
import {
  endpointOf,
  createTestApp,
  entries,
  postBatch,
  useTestApp,
  type TestApp,
  withTestApp,
} from './utils/test-app.js';

/** What either adapter derives from the forwarding headers it trusts. */
interface ForwardedRequest {
  ip: string;
  ips?: string[];
  protocol: string;
  hostname: string;
  host: string;
  headers: Record<string, string | undefined>;
}

const FORWARDING_SENT = {
  'x-forwarded-for': '203.0.113.9, 198.51.100.7',
  'x-forwarded-proto': 'https',
  'x-forwarded-host': 'api.example',
  'x-forwarded-port': '443',
  forwarded: 'for=203.0.113.9;proto=https;host=api.example',
  'x-real-ip': '203.0.113.9',
  'x-client-ip': '203.0.113.9',
  'cf-connecting-ip': '203.0.113.9',
  'true-client-ip': '203.0.113.9',
};

@Controller('forwarding')
class ForwardingController {
  /** The client as the app sees it: address, scheme, host, and the headers they came from. */
  @Get()
  seen(@Req() request: ForwardedRequest): object {
    return {
      ip: request.ip,
      ips: request.ips ?? null,
      protocol: request.protocol,
      hostname: request.hostname,
      host: request.host,
      headers: Object.fromEntries(
        Object.keys(FORWARDING_SENT).map((name) => [name, request.headers[name] ?? null]),
      ),
    };
  }
}

@Module({ controllers: [ForwardingController] })
class ForwardingModule {}

/** Every header by which a client could claim another address, scheme or host. */
const FORWARDING_HEADERS = [
  'X-Forwarded-For',
  'X-Forwarded-Proto',
  'X-Forwarded-Host',
  'X-Forwarded-Port',
  'x-forwarded-prefix',
  'Forwarded',
  'X-Real-IP',
  'X-Client-IP',
  'CF-Connecting-IP',
  'True-Client-IP',
];
/** Every header by which the common middleware lets a request change its method. */
const METHOD_OVERRIDE_HEADERS = ['X-HTTP-Method-Override', 'X-HTTP-Method', 'X-Method-Override'];

/** The problems a refused batch names, as one string. */
function messageOf(body: unknown): string {
  const { message } = body as { message?: string | string[] };
  return [message ?? ''].flat().join('\n');
}

/** One GET /echo operation carrying the header `name: value`, in each batch format. */
function inEachFormat(
  t: TestApp,
  name: string,
  value: string,
): [format: string, send: () => ReturnType<TestApp['http']['post']>][] {
  return [
    ['native', () => postBatch(t, [{ method: 'GET', url: '/echo', headers: { [name]: value } }])],
    [
      'facebook',
      () =>
        t.http.post('/batch').send({
          batch: [{ method: 'GET', relative_url: 'echo', headers: [`${name}: ${value}`] }],
        }),
    ],
    [
      'graph',
      () =>
        t.http.post('/batch').send({
          requests: [{ id: '1', method: 'GET', url: '/echo', headers: { [name]: value } }],
        }),
    ],
    [
      'multipart',
      () =>
        t.http
          .post('/batch')
          .set('content-type', 'multipart/mixed; boundary=b')
          .send(
            `--b\r\nContent-Type: application/http\r\n\r\nGET /echo HTTP/1.1\r\n${name}: ${value}\r\n\r\n--b--\r\n`,
          ),
    ],
  ];
}

forEachPlatform((platform) => {
  describe('forwarding headers come from the batch request only', () => {
    const t = useTestApp({ trustProxy: true });

    it.each(FORWARDING_HEADERS)(
      'an operation setting %s is refused with a 400 naming it, in every format',
      async (name) => {
        // Multipart part headers arrive lower-cased, as any HTTP parser gives them.
        for (const [format, send] of inEachFormat(t, name, '10.6.6.6')) {
          const response = await send();
          expect([format, response.status]).toEqual([format, 400]);
          expect([format, messageOf(response.body).toLowerCase()]).toEqual([
            format,
            expect.stringContaining(`header "${name.toLowerCase()}"`),
          ]);
        }
        expect(t.recorder.count('echo')).toBe(0);
      },
    );

    it('are not refused when only the batch request carries them, though multipart parts inherit outer headers', async () => {
      const response = await t.http
        .post('/batch')
        .set(FORWARDING_SENT)
        // The batch request's own method override is about its own POST, not about its parts.
        .set('x-http-method-override', 'PUT')
        .set('content-type', 'multipart/mixed; boundary=b')
        .send('--b\r\nContent-Type: application/http\r\n\r\nGET /echo HTTP/1.1\r\n\r\n--b--\r\n')
        .buffer(true)
        .parse((res, done) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
          res.on('end', () => done(null, text));
        });
      expect(response.status).toBe(200);
      expect(response.body).toContain('"ip":"203.0.113.9"');
      expect(response.body).toContain('"method":"GET"');
    });
  });

  describe("an operation's client is the batch request's, under trust proxy", () => {
    it.each([
      ['trust proxy true', true, undefined],
      ['hop-count trust proxy', 1, undefined],
      ['address trust proxy', 'loopback', undefined],
      ['trust proxy true, inheritHeaders without forwarding headers', true, ['x-tenant']],
    ])(
      '%s: ip, ips, protocol, hostname, host and forwarding headers equal a direct request',
      async (_name, trustProxy, inheritHeaders) => {
        await withTestApp(
          {
            trustProxy,
            imports: [ForwardingModule],
            batch: inheritHeaders ? { inheritHeaders } : {},
          },
          async (t) => {
            const direct = await t.http.get('/forwarding').set(FORWARDING_SENT).expect(200);
            const [entry] = entries(
              await postBatch(t, [{ method: 'GET', url: '/forwarding' }], FORWARDING_SENT).expect(
                200,
              ),
            );
            expect(entry?.code).toBe(200);
            expect(entry?.body).toEqual(direct.body);
            // Not vacuous: the trusted headers did change what the app sees.
            if (trustProxy === true) {
              expect(entry?.body).toMatchObject({
                ip: '203.0.113.9',
                protocol: 'https',
                hostname: 'api.example',
              });
            }
          },
        );
      },
    );

    it('without forwarding headers on the batch request, operations carry none either', async () => {
      await withTestApp({ trustProxy: true, imports: [ForwardingModule] }, async (t) => {
        const direct = await t.http.get('/forwarding').expect(200);
        const [entry] = entries(await postBatch(t, [{ method: 'GET', url: '/forwarding' }]));
        expect(entry?.body).toEqual(direct.body);
        expect(entry?.body.ip).toBe('127.0.0.1');
      });
    });
  });

  describe('method-override headers are refused in operations', () => {
    const t = useTestApp({
      batch: { exclude: [{ path: '/items/:id', method: 'DELETE' }] },
      configure: (app) => app.use(methodOverride('X-HTTP-Method-Override')),
    });

    it('a POST with X-HTTP-Method-Override: DELETE never reaches the excluded DELETE route', async () => {
      await postBatch(t, [{ method: 'POST', url: '/items', body: { name: 'kept' } }]).expect(200);
      const response = await postBatch(t, [
        { method: 'POST', url: '/items/1', headers: { 'X-HTTP-Method-Override': 'DELETE' } },
      ]);
      expect(t.recorder.count('items.remove')).toBe(0);
      expect(response.status).toBe(400);
      expect(messageOf(response.body)).toContain('header "X-HTTP-Method-Override"');
    });

    // On Fastify the route is found before middleware runs, so the middleware cannot re-route.
    const onExpress = platform.name === 'express' ? it : it.skip;
    onExpress(
      'the middleware does re-route a request of its own: the refusal is what holds',
      async () => {
        await t.http.post('/items/7').set('X-HTTP-Method-Override', 'DELETE').expect(204);
        expect(t.recorder.count('items.remove')).toBe(1);
      },
    );

    it.each(METHOD_OVERRIDE_HEADERS)(
      '%s is refused with a 400 naming it, in every format',
      async (name) => {
        for (const [format, send] of inEachFormat(t, name, 'DELETE')) {
          const response = await send();
          expect([format, response.status]).toEqual([format, 400]);
          expect([format, messageOf(response.body).toLowerCase()]).toEqual([
            format,
            expect.stringContaining(`header "${name.toLowerCase()}"`),
          ]);
        }
        expect(t.recorder.count('echo')).toBe(0);
      },
    );
  });

  describe('the inheritHeaders option', () => {
    it('refuses a method-override header at bootstrap: it would re-route every operation', async () => {
      await expect(
        createTestApp({ batch: { inheritHeaders: ['authorization', 'X-HTTP-Method-Override'] } }),
      ).rejects.toThrow(/inheritHeaders may not hold "X-HTTP-Method-Override"/);
    });
  });
});

/** `value` nested in arrays `depth` deep, as JSON text. */
function nested(depth: number, value = '"a"'): string {
  return `${'['.repeat(depth)}${value}${']'.repeat(depth)}`;
}

forEachPlatform(() => {
  describe('parser gaps', () => {
    const t = useTestApp();

    it('refuses a header value above U+00FF with a 400 naming the header, in every JSON format', async () => {
      const sends: [string, () => ReturnType<TestApp['http']['post']>][] = [
        [
          'native',
          () => postBatch(t, [{ method: 'GET', url: '/echo', headers: { 'X-Name': 'snow ☃' } }]),
        ],
        [
          'facebook',
          () =>
            t.http.post('/batch').send({
              batch: [{ method: 'GET', relative_url: 'echo', headers: ['X-Name: snow ☃'] }],
            }),
        ],
        [
          'graph',
          () =>
            t.http.post('/batch').send({
              requests: [{ id: '1', method: 'GET', url: '/echo', headers: { 'X-Name': 'snow ☃' } }],
            }),
        ],
      ];
      for (const [format, send] of sends) {
        const response = await send();
        expect([format, response.status]).toEqual([format, 400]);
        expect([format, messageOf(response.body)]).toEqual([
          format,
          expect.stringMatching(/header "X-Name" holds a character above U\+00FF/),
        ]);
      }
      expect(t.recorder.count('echo')).toBe(0);
    });

    it('passes latin1 header values as a real request would carry them', async () => {
      const [entry] = entries(
        await postBatch(t, [{ method: 'GET', url: '/echo', headers: { 'x-name': 'café' } }]).expect(
          200,
        ),
      );
      expect(entry?.body.headers['x-name']).toBe('café');
    });

    it("holds an operation's headers with those it inherits to the cap a request of its own is held to", async () => {
      const cookie = `big=${'c'.repeat(9000)}`;
      // Directly, the two together pass the 16 KiB a request's header block may take.
      const direct = await fetch(endpointOf(t, '/echo'), {
        headers: { cookie, 'x-pad': 'p'.repeat(9000) },
      });
      expect(direct.status).toBe(431);
      const response = await postBatch(t, [
        { method: 'GET', url: '/echo', headers: { 'x-pad': 'p'.repeat(9000) } },
        { method: 'GET', url: '/echo', headers: { 'x-pad': 'p'.repeat(10) } },
      ])
        .set('cookie', cookie)
        .expect(200);
      const [padded, small] = entries(response);
      // Before the fix, the first ran with both: the cap counted its own headers alone.
      expect(padded).toMatchObject({
        code: 400,
        body: {
          reason: 'render-failed',
          message: expect.stringMatching(
            /headers take more than 16384 bytes with the headers it inherits/,
          ),
        },
      });
      expect(small?.code).toBe(200);
      expect(t.recorder.count('echo')).toBe(1);
    });

    it('counts the request line in the cap, as Node counts it in the head', async () => {
      const url = `/echo?q=${'u'.repeat(6000)}`;
      const direct = await fetch(endpointOf(t, url), { headers: { 'x-pad': 'p'.repeat(11_000) } });
      expect(direct.status).toBe(431);
      const response = await postBatch(t, [
        { method: 'GET', url, headers: { 'x-pad': 'p'.repeat(11_000) } },
      ]).expect(200);
      // Before the fix, it ran: the url was not counted.
      expect(entries(response)[0]).toMatchObject({ code: 400, body: { reason: 'render-failed' } });
      expect(t.recorder.count('echo')).toBe(0);
    });

    it('refuses a value above U+00FF put into a header by a reference, in that entry', async () => {
      const response = await postBatch(t, [
        { method: 'POST', url: '/items', name: 'a', body: { name: 'snow ☃' } },
        { method: 'GET', url: '/echo', headers: { 'x-name': '{result=a:$.name}' } },
      ]).expect(200);
      const [, echo] = entries(response);
      expect(echo?.code).toBe(400);
      expect(echo?.body.message).toMatch(/header "x-name" .*above U\+00FF/);
      expect(t.recorder.count('echo')).toBe(0);
    });

    it.each([
      [
        'native dependsOn',
        (deep: string) => `{"data":[{"method":"GET","url":"/echo","dependsOn":${deep}}]}`,
      ],
      ['native name', (deep: string) => `{"data":[{"method":"GET","url":"/echo","name":${deep}}]}`],
      ['native url', (deep: string) => `{"data":[{"method":"GET","url":${deep}}]}`],
      [
        'native unknown field',
        (deep: string) => `{"data":[{"method":"GET","url":"/echo","x":${deep}}]}`,
      ],
      [
        'facebook depends_on',
        (deep: string) => `{"batch":[{"method":"GET","relative_url":"echo","depends_on":${deep}}]}`,
      ],
      [
        'graph dependsOn',
        (deep: string) =>
          `{"requests":[{"id":"1","method":"GET","url":"/echo","dependsOn":${deep}}]}`,
      ],
    ])('%s nested 200,000 deep is a 400 naming the field', async (_name, batch) => {
      const response = await t.http
        .post('/batch')
        .set('content-type', 'application/json')
        .send(batch(nested(200_000)));
      expect(response.status).toBe(400);
      expect(messageOf(response.body)).toMatch(/\.0\..*\b(dependsOn|name|url|x)\b/);
      expect(t.recorder.count('echo')).toBe(0);
    });

    it.each([
      ['a "Name: value" string', ['__proto__: x']],
      ['a { name, value } object', [{ name: '__proto__', value: 'x' }]],
    ])('refuses a Facebook header "__proto__" given as %s with a 400', async (_name, headers) => {
      const response = await t.http
        .post('/batch')
        .send({ batch: [{ method: 'GET', relative_url: 'echo', headers }] });
      expect(response.status).toBe(400);
      expect(messageOf(response.body)).toContain('"__proto__" is not a valid header name');
      expect(t.recorder.count('echo')).toBe(0);
    });

    it('refuses a multipart part header "__proto__" with a 400', async () => {
      const response = await t.http
        .post('/batch')
        .set('content-type', 'multipart/mixed; boundary=b')
        .send(
          '--b\r\nContent-Type: application/http\r\n\r\nGET /echo HTTP/1.1\r\n__proto__: x\r\n\r\n--b--\r\n',
        );
      expect(response.status).toBe(400);
      expect(messageOf(response.body)).toContain('"__proto__" is not a valid header name');
      expect(t.recorder.count('echo')).toBe(0);
    });
  });
});
