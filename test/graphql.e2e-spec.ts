import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { type INestApplication, Injectable, Module } from '@nestjs/common';
import { Args, Context, GraphQLModule, Mutation, Query, Resolver } from '@nestjs/graphql';
import { Test } from '@nestjs/testing';
import {
  BatchListener,
  BatchModule,
  SkipBatch,
  type BatchOperationFinishEvent,
} from 'nestjs-batch';
import request from 'supertest';
import { expressPlatform, forEachPlatform, type Platform } from './utils/platforms.js';
import { rewriteLegacyPrefix } from './fixtures/legacy-prefix.middleware.js';
import {
  directAndBatched,
  expectSameAnswer,
  firstEntry,
  comparableHeaders,
} from './utils/graphql.js';

/** What the resolvers observed, and the status and reason each operation finished with. */
@Injectable()
@BatchListener()
class Calls {
  readonly seen: string[] = [];
  readonly finished: Pick<BatchOperationFinishEvent, 'status' | 'reason'>[] = [];
  onOperationFinish({ status, reason }: BatchOperationFinishEvent): void {
    this.finished.push({ status, reason });
  }
}

type Ctx = {
  req: { headers: Record<string, string | undefined> };
  res?: { setHeader?(n: string, v: string): void; header?(n: string, v: string): void };
  reply?: { header(n: string, v: string): void };
};

function setHeader(ctx: Ctx, name: string, value: string): void {
  if (ctx.reply) ctx.reply.header(name, value);
  else ctx.res?.setHeader?.(name, value);
}

@Resolver()
class AccountResolver {
  constructor(private readonly calls: Calls) {}

  @Query(() => String)
  whoami(@Context() ctx: Ctx): string {
    this.calls.seen.push('whoami');
    return `${ctx.req.headers.authorization ?? '-'}|${ctx.req.headers.cookie ?? '-'}`;
  }

  @Query(() => String)
  boom(): string {
    throw new Error('resolver failed');
  }

  @Mutation(() => Boolean)
  login(@Args('user') user: string, @Context() ctx: Ctx): boolean {
    this.calls.seen.push(`login ${user}`);
    setHeader(ctx, 'set-cookie', `sid=${user}; Path=/; HttpOnly`);
    setHeader(ctx, 'x-resolver', 'set');
    return true;
  }

  /** A mutation the app keeps out of batches, as the docs say a handler can be. */
  @SkipBatch()
  @Mutation(() => Boolean)
  closeAccount(): boolean {
    this.calls.seen.push('closeAccount');
    return true;
  }
}

@Module({ providers: [Calls, AccountResolver] })
class AccountModule {}

interface GqlApp {
  app: INestApplication;
  http: ReturnType<typeof request>;
  calls: Calls;
}

async function createGqlApp(
  platform: Platform,
  options: { exclude?: string[]; configure?: (app: INestApplication) => void } = {},
): Promise<GqlApp> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      BatchModule.forRoot({ entryHeaders: 'all', exclude: options.exclude }),
      GraphQLModule.forRoot<ApolloDriverConfig>({
        driver: ApolloDriver,
        autoSchemaFile: true,
        // Express: ({ req, res }); Fastify (@as-integrations/fastify): (request, reply).
        context:
          platform.name === 'express'
            ? ({ req, res }: { req: unknown; res: unknown }) => ({ req, res })
            : (req: unknown, reply: unknown) => ({ req, reply }),
      }),
      AccountModule,
    ],
  }).compile();
  const app = moduleRef.createNestApplication(platform.create());
  app.useLogger(false);
  options.configure?.(app);
  await app.listen(0, '127.0.0.1');
  return {
    app,
    http: request(app.getHttpServer() as Parameters<typeof request>[0]),
    calls: app.get(Calls),
  };
}

forEachPlatform((platform) => {
  describe('GraphQL (Apollo) through batch operations', () => {
    let g: GqlApp;
    beforeAll(async () => {
      g = await createGqlApp(platform);
    });
    afterAll(() => g.app.close());
    beforeEach(() => {
      g.calls.seen.length = 0;
      g.calls.finished.length = 0;
    });

    it.each([
      ['a query', { method: 'POST', url: '/graphql', body: { query: '{ whoami }' } }],
      [
        'a resolver error (200 with errors)',
        { method: 'POST', url: '/graphql', body: { query: '{ boom }' } },
      ],
      ['a syntax error (400)', { method: 'POST', url: '/graphql', body: { query: '{ whoami' } }],
      ['an unknown field (400)', { method: 'POST', url: '/graphql', body: { query: '{ nope }' } }],
      [
        'a GET without a preflight header (CSRF prevention)',
        { method: 'GET', url: '/graphql?query=%7Bwhoami%7D' },
      ],
      [
        'a GET with apollo-require-preflight',
        {
          method: 'GET',
          url: '/graphql?query=%7Bwhoami%7D',
          headers: { 'apollo-require-preflight': 'true' },
        },
      ],
      [
        'a GET mutation (405)',
        {
          method: 'GET',
          url: '/graphql?query=mutation%7Blogin(user%3A%22a%22)%7D',
          headers: { 'apollo-require-preflight': 'true' },
        },
      ],
      [
        'graphql-response+json accepted',
        {
          method: 'POST',
          url: '/graphql',
          headers: { accept: 'application/graphql-response+json' },
          body: { query: '{ nope }' },
        },
      ],
      ['the landing page', { method: 'GET', url: '/graphql', headers: { accept: 'text/html' } }],
      [
        'an unknown persisted query',
        {
          method: 'GET',
          url: '/graphql?extensions=%7B%22persistedQuery%22%3A%7B%22version%22%3A1%2C%22sha256Hash%22%3A%22ecf4edb46db40b5132295c0291d62fb65d6759a9eedfa4d5d612dd5ec54a6b38%22%7D%7D',
          headers: { 'apollo-require-preflight': 'true' },
        },
      ],
      [
        'a batched (array) POST',
        { method: 'POST', url: '/graphql', body: [{ query: '{ whoami }' }] },
      ],
    ] as const)('%s answers the same', async (_, op) => {
      const { direct, entry } = await directAndBatched(g.http, op);
      expectSameAnswer(direct, entry);
    });

    it('a mutation setting a cookie and a header from the resolver', async () => {
      const op = {
        method: 'POST' as const,
        url: '/graphql',
        body: { query: 'mutation { login(user: "ann") }' },
      };
      const { direct, entry, batch } = await directAndBatched(g.http, op);
      expect(entry.code).toBe(direct.status);
      expect(entry.body).toEqual(direct.body);
      expect(comparableHeaders(entry.headers)).toEqual(comparableHeaders(direct.headers));
      expect(batch.headers['set-cookie']).toEqual(direct.headers['set-cookie']);
    });

    it('@SkipBatch() on a resolver: the mutation never runs from inside a batch', async () => {
      const direct = await g.http.post('/graphql').send({ query: 'mutation { closeAccount }' });
      expect(direct.body).toEqual({ data: { closeAccount: true } });
      expect(g.calls.seen).toEqual(['closeAccount']);
      g.calls.seen.length = 0;

      const batch = await g.http
        .post('/batch')
        .send({
          data: [{ method: 'POST', url: '/graphql', body: { query: 'mutation { closeAccount }' } }],
        })
        .expect(200);
      const entry = firstEntry(batch);
      // The guard's 403 is a GraphQL error in Apollo's 200 (docs/security.md); the resolver
      // never runs, and listeners get the library's reason.
      expect(g.calls.seen).toEqual([]);
      expect(entry.code).toBe(200);
      expect(entry.body).toMatchObject({
        data: null,
        errors: [
          {
            message: 'This route cannot be reached from inside a batch',
            path: ['closeAccount'],
            extensions: { code: 'FORBIDDEN', originalError: { reason: 'skip-batch' } },
          },
        ],
      });
      expect(g.calls.finished).toEqual([{ status: 200, reason: 'skip-batch' }]);
    });

    it('@SkipBatch() refuses its field only: the rest of the document runs', async () => {
      const batch = await g.http
        .post('/batch')
        .send({
          data: [
            {
              method: 'POST',
              url: '/graphql',
              body: { query: 'mutation { login(user: "bo") closeAccount }' },
            },
          ],
        })
        .expect(200);
      const entry = firstEntry(batch);
      expect(g.calls.seen).toEqual(['login bo']);
      expect(entry.body).toMatchObject({
        data: null,
        errors: [{ path: ['closeAccount'], extensions: { code: 'FORBIDDEN' } }],
      });
    });
  });
});

// Express only: there middleware runs before routing, so a rewrite re-routes (on Fastify the
// router has matched already and /legacy/graphql is a 404, directly and batched).
describe('express: an excluded GraphQL endpoint behind a url-rewriting middleware', () => {
  let g: GqlApp;
  beforeAll(async () => {
    g = await createGqlApp(expressPlatform, {
      exclude: ['/graphql'],
      configure: (app) => app.use(rewriteLegacyPrefix),
    });
  });
  afterAll(() => g.app.close());

  it('a direct request reaches it through the alias; the exclusion holds for /graphql itself', async () => {
    const direct = await g.http
      .post('/legacy/graphql')
      .send({ query: 'mutation { login(user: "x") }' });
    expect(direct.body).toEqual({ data: { login: true } });
    g.calls.seen.length = 0;
    const batch = await g.http
      .post('/batch')
      .send({
        data: [
          { method: 'POST', url: '/graphql', body: { query: 'mutation { login(user: "y") }' } },
        ],
      })
      .expect(200);
    expect(firstEntry(batch).code).toBe(403);
    expect(g.calls.seen).toEqual([]);
  });

  it('does not let POST /legacy/graphql reach the excluded /graphql (docs/security.md, check 3)', async () => {
    g.calls.seen.length = 0;
    g.calls.finished.length = 0;
    const batch = await g.http
      .post('/batch')
      .send({
        data: [
          {
            method: 'POST',
            url: '/legacy/graphql',
            body: { query: 'mutation { login(user: "z") }' },
          },
        ],
      })
      .expect(200);
    // As for /legacy/admin/1 onto an excluded controller route (hostile-bypass): never run.
    expect(g.calls.seen).toEqual([]);
    expect(batch.headers['set-cookie']).toBeUndefined();
    expect(firstEntry(batch).body).toMatchObject({
      data: null,
      errors: [
        {
          message:
            'operation 0 cannot be run in a batch: POST /graphql is excluded (exclude option)',
          extensions: { code: 'FORBIDDEN', originalError: { reason: 'excluded' } },
        },
      ],
    });
    expect(g.calls.finished).toEqual([{ status: 200, reason: 'excluded' }]);
  });
});
