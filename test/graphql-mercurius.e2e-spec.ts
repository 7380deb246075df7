import request from 'supertest';
import { startChildApp, type ChildApp } from './utils/child-app.js';
import { fastifyPlatform } from './utils/platforms.js';
import {
  directAndBatched,
  expectSameAnswer,
  firstEntry,
  comparableHeaders,
  type GraphqlOp,
} from './utils/graphql.js';

// Mercurius runs on Fastify only.
describe('fastify: GraphQL (Mercurius) through batch operations', () => {
  let child: ChildApp;
  let http: ReturnType<typeof request>;
  beforeAll(async () => {
    child = await startChildApp('mercurius-app.mjs', fastifyPlatform);
    http = request(child.base);
  });
  afterAll(() => child.stop());
  const seen = async (): Promise<string[]> =>
    ((await http.get('/seen')).body as { seen: string[] }).seen;
  beforeEach(() => seen());

  const q = encodeURIComponent;
  it.each([
    ['a query', { method: 'POST', url: '/graphql', body: { query: '{ whoami }' } }],
    ['a resolver error', { method: 'POST', url: '/graphql', body: { query: '{ boom }' } }],
    ['a syntax error', { method: 'POST', url: '/graphql', body: { query: '{ whoami' } }],
    ['an unknown field', { method: 'POST', url: '/graphql', body: { query: '{ nope }' } }],
    ['a GET query', { method: 'GET', url: `/graphql?query=${q('{whoami}')}` }],
    ['a GET with a bad query', { method: 'GET', url: `/graphql?query=${q('{nope}')}` }],
    ['a GET mutation', { method: 'GET', url: `/graphql?query=${q('mutation{login(user:"a")}')}` }],
    [
      'a batched (array) POST',
      { method: 'POST', url: '/graphql', body: [{ query: '{ whoami }' }, { query: '{ boom }' }] },
    ],
    ['graphiql', { method: 'GET', url: '/graphiql' }],
    ['a POST without body', { method: 'POST', url: '/graphql' }],
    [
      'a POST as application/graphql',
      {
        method: 'POST',
        url: '/graphql',
        headers: { 'content-type': 'application/graphql' },
        body: '{ whoami }',
      },
    ],
  ] as const)('%s answers the same', async (_, op) => {
    const { direct, entry } = await directAndBatched(http, op);
    expectSameAnswer(direct, entry);
  });

  it('a mutation setting a cookie and a header from the resolver', async () => {
    const op: GraphqlOp = {
      method: 'POST',
      url: '/graphql',
      body: { query: 'mutation { login(user: "ann") }' },
    };
    const { direct, entry, batch } = await directAndBatched(http, op);
    expect(entry.code).toBe(direct.status);
    expect(entry.body).toEqual(direct.body);
    expect(comparableHeaders(entry.headers)).toEqual(comparableHeaders(direct.headers));
    expect(batch.headers['set-cookie']).toEqual(direct.headers['set-cookie']);
  });

  it('@SkipBatch() on a resolver: the mutation never runs from inside a batch', async () => {
    const direct = await http.post('/graphql').send({ query: 'mutation { closeAccount }' });
    expect(direct.body).toEqual({ data: { closeAccount: true } });
    expect(await seen()).toEqual(['closeAccount']);

    const batch = await http
      .post('/batch')
      .send({
        data: [{ method: 'POST', url: '/graphql', body: { query: 'mutation { closeAccount }' } }],
      })
      .expect(200);
    const entry = firstEntry(batch);
    // The guard's 403 is a GraphQL error in Mercurius's 200 (docs/security.md, which says
    // Mercurius keeps only the message); the resolver never runs.
    expect(await seen()).toEqual([]);
    expect(entry.code).toBe(200);
    expect(entry.body).toEqual({
      data: null,
      errors: [
        {
          message: 'This route cannot be reached from inside a batch',
          locations: [{ line: 1, column: 12 }],
          path: ['closeAccount'],
        },
      ],
    });
  });
});
