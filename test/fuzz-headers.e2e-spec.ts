import fc from 'fast-check';
import { forEachPlatform } from './utils/platforms.js';
import { createTestApp, type TestApp } from './utils/test-app.js';

/** The client address every batch of this suite comes from, through a proxy the app trusts. */
const CLIENT = '203.0.113.9';

forEachPlatform(() => {
  /** Header names an attacker reaches for first, in any case. */
  const HOSTILE = [
    'x-forwarded-for',
    'X-Forwarded-Proto',
    'x-forwarded-host',
    'X-Forwarded-Anything',
    'Forwarded',
    'x-real-ip',
    'X-Client-IP',
    'cf-connecting-ip',
    'True-Client-IP',
    'X-HTTP-Method-Override',
    'x-http-method',
    'X-Method-Override',
    'content-length',
    'Transfer-Encoding',
    'host',
    '__proto__',
    'constructor',
  ];
  const name = fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom(...HOSTILE) },
    { weight: 4, arbitrary: fc.constantFrom('x-a', 'accept', 'authorization', 'x-b') },
    { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  );
  /** Values from plausible to hostile: non-latin1, controls, a reference, long ones. */
  const value = fc.oneof(
    { weight: 4, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 3000 }) },
    {
      weight: 2,
      arbitrary: fc.constantFrom('10.6.6.6', 'https', 'DELETE', 'snow ☃', 'café', 'a\r\nb: c'),
    },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
    { weight: 1, arbitrary: fc.constant('{result=n0:$.method}') },
  );
  const headers = fc.array(fc.tuple(name, value), { maxLength: 3 });
  /** An /echo operation, or one whose `dependsOn` or `name` is nested deep. */
  const operation = fc.oneof(
    { weight: 6, arbitrary: headers.map((pairs) => ({ pairs, deep: 0 })) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(headers, fc.integer({ min: 2, max: 60_000 }))
        .map(([pairs, deep]) => ({ pairs, deep })),
    },
  );
  const batch = fc.tuple(
    fc.constantFrom('native', 'facebook', 'graph', 'multipart'),
    fc.array(operation, { minLength: 1, maxLength: 5 }),
  );

  /** The batch as the request body of its format, and its Content-Type. */
  function encode(
    format: string,
    operations: { pairs: [string, string][]; deep: number }[],
  ): { type: string; text: string } {
    const deepOf = (depth: number): string => `${'['.repeat(depth)}"n0"${']'.repeat(depth)}`;
    if (format === 'multipart') {
      const parts = operations.map(
        ({ pairs }) =>
          `--b\r\nContent-Type: application/http\r\n\r\nGET /echo HTTP/1.1\r\n${pairs
            .map(([n, v]) => `${n}: ${v}`)
            .join('\r\n')}\r\n\r\n`,
      );
      return { type: 'multipart/mixed; boundary=b', text: `${parts.join('')}--b--\r\n` };
    }
    const items = operations.map(({ pairs, deep }, index) => {
      // The name goes in first so a reference to n0 is known; a nested one replaces it.
      const id = deep > 0 && index % 2 === 0 ? deepOf(deep) : JSON.stringify(`n${index}`);
      const depends = deep > 0 && index % 2 === 1 ? `,"dependsOn":${deepOf(deep)}` : '';
      if (format === 'facebook') {
        // Every entry kept: Facebook omits a referenced success, and this reads what each saw.
        return `{"method":"GET","relative_url":"echo","name":${id},"omit_response_on_success":false,"headers":${JSON.stringify(
          pairs.map(([n, v]) => `${n}: ${v}`),
        )}${depends.replace('dependsOn', 'depends_on')}}`;
      }
      const object = JSON.stringify(Object.fromEntries(pairs));
      const key = format === 'graph' ? 'id' : 'name';
      return `{"method":"GET","url":"/echo","${key}":${id},"headers":${object}${depends}}`;
    });
    const root = { native: 'data', facebook: 'batch', graph: 'requests' }[format] ?? 'data';
    return { type: 'application/json', text: `{"${root}":[${items.join(',')}]}` };
  }

  /** The echoed request of every entry that ran, whatever the format wrote it as. */
  function echoedOf(format: string, body: unknown): Record<string, unknown>[] {
    if (format === 'multipart') {
      return [...String(body).matchAll(/^\{"method".*$/gm)].map(
        (match) => JSON.parse(match[0]) as Record<string, unknown>,
      );
    }
    const list =
      format === 'native'
        ? (body as { data: { code: number; body: unknown }[] }).data
        : format === 'graph'
          ? (body as { responses: { status: number; body: unknown }[] }).responses
          : (body as { code: number; body: string }[]).map((entry) => ({
              ...entry,
              body: JSON.parse(entry.body) as unknown,
            }));
    return list
      .filter((entry) => ('code' in entry ? entry.code : entry.status) === 200)
      .map((entry) => entry.body as Record<string, unknown>);
  }

  describe('fuzz: header-heavy batches in every format, behind a trusted proxy', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ trustProxy: true, batch: { timeout: 2_000 } });
    });
    afterAll(() => t.close());

    it("answers 2xx or 4xx, never 5xx; every operation that ran saw the batch request's client", async () => {
      let ran = 0;
      await fc.assert(
        fc.asyncProperty(batch, async ([format, operations]) => {
          const { type, text } = encode(format, operations);
          const response = await t.http
            .post('/batch')
            .set('content-type', type)
            .set('x-forwarded-for', CLIENT)
            .timeout(10_000)
            .buffer(true)
            .parse((res, done) => {
              let raw = '';
              res.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
              res.on('end', () => done(null, raw));
            })
            .send(text);
          expect(response.status).toBeGreaterThanOrEqual(200);
          expect(response.status).toBeLessThan(500);
          if (response.status !== 200) return;
          const body: unknown =
            format === 'multipart' ? response.body : JSON.parse(response.body as string);
          for (const echoed of echoedOf(format, body)) {
            ran++;
            const seen = echoed.headers as Record<string, string>;
            expect(echoed.ip).toBe(CLIENT);
            expect(echoed.method).toBe('GET');
            expect(seen['x-forwarded-for']).toBe(CLIENT);
            for (const header of Object.keys(seen)) {
              expect([
                header,
                /^(x-forwarded-(?!for$)|forwarded$|x-http-method)/.test(header),
              ]).toEqual([header, false]);
            }
          }
        }),
        { numRuns: 400, interruptAfterTimeLimit: 45_000 },
      );
      // Not vacuous: some batches were clean enough to run.
      expect(ran).toBeGreaterThan(20);
      await t.http.get('/echo').expect(200);
    }, 90_000);
  });
});
