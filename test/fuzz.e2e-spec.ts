import fc from 'fast-check';
import { createTestApp, type TestApp } from './utils/test-app.js';
import { forEachPlatform } from './utils/platforms.js';

forEachPlatform(() => {
  const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'get', 'BREW', ''];
  const URLS = [
    '/echo',
    '/items',
    '/items/1',
    '/slow/5',
    '/boom',
    '/hang',
    '/teapot',
    '/secret',
    '/vault',
    '/batch',
    '/echo?x={result=a:$.body}',
    '/items/{result=b:$.id}',
    'http://127.0.0.1/echo',
    '//evil.example/',
    '/static/%2e%2e/x',
    '/\u0000',
    '',
  ];

  /** Any value a field could be given, from plausible to absurd. */
  const anything = {
    method: fc.oneof(fc.constantFrom(...METHODS), fc.string(), fc.jsonValue()),
    url: fc.oneof(fc.constantFrom(...URLS), fc.string(), fc.webPath(), fc.jsonValue()),
    headers: fc.oneof(
      fc.dictionary(fc.string(), fc.string()),
      fc.array(fc.record({ name: fc.string(), value: fc.string() })),
      fc.jsonValue(),
    ),
    body: fc.oneof(fc.jsonValue(), fc.constant('{result=n0:$.body}')),
    name: fc.oneof(fc.constantFrom('n0', 'n1', 'a:b', ''), fc.string()),
    dependsOn: fc.oneof(fc.array(fc.constantFrom('n0', 'n1', 'n9')), fc.jsonValue()),
    omitResponseOnSuccess: fc.oneof(fc.boolean(), fc.jsonValue()),
  };
  type Field = keyof typeof anything;
  const FIELDS = Object.keys(anything) as Field[];

  /** A valid operation `n<index>`, which may depend on and reference earlier ones. */
  function validOperation(index: number): fc.Arbitrary<Record<string, unknown>> {
    const earlier = Array.from({ length: index }, (_, i) => `n${i}`);
    return fc
      .record({
        method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'HEAD'),
        url: fc.constantFrom(
          '/echo',
          '/items',
          '/items/1',
          '/slow/5',
          '/boom',
          '/teapot',
          '/vault',
        ),
        headers: fc.dictionary(
          fc.constantFrom('x-a', 'accept', 'x-b'),
          fc.string({ unit: 'grapheme-ascii' }),
        ),
        body: fc.option(fc.jsonValue({ maxDepth: 3 }), { nil: undefined }),
        reference: earlier.length
          ? fc.option(fc.constantFrom(...earlier), { nil: undefined })
          : fc.constant(undefined),
      })
      .map(({ reference, body, url, ...rest }) => ({
        ...rest,
        name: `n${index}`,
        url: reference ? `/echo?from={result=${reference}:$.method}` : url,
        ...(reference ? { dependsOn: [reference] } : {}),
        ...(body === undefined ? {} : { body }),
      }));
  }

  /** A valid batch, then with probability some fields of some operations replaced by anything. */
  const envelope = fc
    .integer({ min: 1, max: 6 })
    .chain((count) => fc.tuple(...Array.from({ length: count }, (_, i) => validOperation(i))))
    .chain((data) =>
      fc
        .array(
          fc.tuple(
            fc.nat({ max: data.length - 1 }),
            fc
              .constantFrom(...FIELDS)
              .chain((field) => fc.tuple(fc.constant(field), anything[field])),
          ),
          { maxLength: 3 },
        )
        .map((mutations) => {
          const mutated = data.map((operation) => ({ ...operation }));
          for (const [at, [field, value]] of mutations) {
            const target = mutated[at];
            if (target) target[field] = value;
          }
          return mutated;
        }),
    );

  /** Whole request bodies: mutated envelopes, any JSON, and bytes that are not JSON at all. */
  const body = fc.oneof(
    { weight: 6, arbitrary: envelope.map((data) => JSON.stringify({ data })) },
    { weight: 1, arbitrary: fc.jsonValue().map((value) => JSON.stringify(value)) },
    { weight: 1, arbitrary: fc.string() },
    {
      weight: 1,
      arbitrary: fc.tuple(envelope, fc.nat(), fc.string()).map(([data, at, junk]) => {
        const text = JSON.stringify({ data });
        const cut = at % (text.length + 1);
        return text.slice(0, cut) + junk + text.slice(cut);
      }),
    },
  );

  describe('fuzz: random and mutated envelopes against a real app', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ batch: { timeout: 2_000, operationTimeout: 1_000 } });
    });
    afterAll(() => t.close());

    it('answers 2xx or 4xx, never 5xx, never hangs; a 200 has one entry per operation', async () => {
      let ran = 0;
      await fc.assert(
        fc.asyncProperty(body, async (text) => {
          const response = await t.http
            .post('/batch')
            .set('content-type', 'application/json')
            .timeout(10_000)
            .send(text);
          expect(response.status).toBeGreaterThanOrEqual(200);
          expect(response.status).toBeLessThan(500);
          if (response.status === 200) {
            ran++;
            const sent = (JSON.parse(text) as { data: unknown[] }).data;
            expect((response.body as { data: unknown[] }).data).toHaveLength(sent.length);
          }
        }),
        { numRuns: 300, interruptAfterTimeLimit: 60_000 },
      );
      // Not vacuous: a fair share of the envelopes were valid enough to run.
      expect(ran).toBeGreaterThan(30);
      await t.http.get('/echo').expect(200);
    }, 90_000);
  });

  /** Paths a hostile batch points at large bodies: many matches, deep walks, nothing at all. */
  const PATHS = [
    '$',
    '$..*',
    '$.body',
    '$.body..*',
    '$..[0]',
    '$.headers',
    '$.body.list[*]',
    '$.body.list[::-1]',
    '$..nothing',
    '$.body.*',
    '$..text',
  ];

  /** A source operation `s<index>` answering a body worth referencing. */
  const source = fc.oneof(
    fc.record({
      method: fc.constant('POST'),
      url: fc.constant('/echo'),
      body: fc.record({
        list: fc.nat({ max: 20_000 }).map((length) => Array.from({ length }, (_, i) => i)),
        text: fc.nat({ max: 50_000 }).map((length) => 'x'.repeat(length)),
        any: fc.jsonValue({ maxDepth: 4 }),
      }),
    }),
    fc.nat({ max: 200_000 }).map((bytes) => ({ method: 'GET', url: `/big/${bytes}` })),
  );

  /** A reference to one of the sources, as written in a template. */
  const reference = (sources: number) =>
    fc
      .tuple(fc.nat({ max: sources - 1 }), fc.constantFrom(...PATHS))
      .map(([at, path]) => `{result=s${at}:${path}}`);

  /** An operation stuffed with references: in its url, its headers and its body, repeated. */
  const consumer = (sources: number) =>
    fc.record({
      method: fc.constantFrom('POST', 'PUT', 'PATCH'),
      url: fc.oneof(
        fc.constant('/echo'),
        reference(sources).map((ref) => `/echo?x=${ref}`),
      ),
      headers: fc.dictionary(
        fc.constantFrom('x-a', 'x-b', 'x-c', 'x-d'),
        fc
          .tuple(reference(sources), fc.integer({ min: 1, max: 40 }))
          .map(([ref, times]) => ref.repeat(times)),
        { maxKeys: 4 },
      ),
      body: fc.oneof(
        fc
          .tuple(reference(sources), fc.integer({ min: 1, max: 300 }))
          .map(([ref, times]) => ({ x: Array<string>(times).fill(ref) })),
        fc.array(reference(sources), { maxLength: 40 }).map((refs) => ({ refs })),
        reference(sources).map((ref) => `text ${ref} and ${ref}`),
      ),
    });

  /** One to three large sources, then up to ten operations that reference them heavily. */
  const hostile = fc
    .integer({ min: 1, max: 3 })
    .chain((sources) =>
      fc
        .tuple(
          fc.array(source, { minLength: sources, maxLength: sources }),
          fc.array(consumer(sources), { minLength: 1, maxLength: 10 }),
        )
        .map(([made, consumers]) => [
          ...made.map((operation, i) => ({ ...operation, name: `s${i}` })),
          ...consumers,
        ]),
    );

  describe('fuzz: reference-heavy and header-heavy batches', () => {
    let t: TestApp;
    beforeAll(async () => {
      // The default batch timeout: an entry left null could only be one cut off by it.
      t = await createTestApp();
    });
    afterAll(() => t.close());

    it('answers every batch and every entry below 500, none left unanswered', async () => {
      let ran = 0;
      let refused = 0;
      await fc.assert(
        fc.asyncProperty(hostile, async (data) => {
          const response = await t.http.post('/batch').send({ data });
          expect(response.status).toBeLessThan(500);
          if (response.status !== 200) return;
          ran++;
          const codes = (response.body as { data: ({ code: number } | null)[] }).data.map(
            (entry) => entry?.code ?? 0,
          );
          expect(codes).toHaveLength(data.length);
          // No entry null (0 here): every operation answered, none abandoned to the timeout.
          expect(codes.filter((code) => code === 0 || code >= 500)).toEqual([]);
          refused += codes.filter((code) => code === 400).length;
        }),
        { numRuns: 60, interruptAfterTimeLimit: 60_000 },
      );
      // Not vacuous: batches ran and caps were reached. How long such batches take is the
      // bench's (npm run bench:hostile, the fan-out and header-heavy scenarios).
      expect(ran).toBeGreaterThan(10);
      expect(refused).toBeGreaterThan(0);
      await t.http.get('/echo').expect(200);
    }, 90_000);
  });
});
