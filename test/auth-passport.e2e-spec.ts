import type { INestApplication } from '@nestjs/common';
import session from 'express-session';
import { CookieAccessInfo } from 'cookiejar';
import passport from 'passport';
import { PassportSessionModule } from './fixtures/passport.fixtures.js';
import { expressPlatform } from './utils/platforms.js';
import { withTestApp, type TestApp } from './utils/test-app.js';

type Agent = ReturnType<TestApp['browser']>;
interface Step {
  method: 'GET' | 'POST';
  url: string;
  body?: object;
}

const loginAs = (user: string): Step => ({
  method: 'POST',
  url: '/pp/login',
  body: { username: user, password: 'pw' },
});
const me: Step = { method: 'GET', url: '/pp/me' };
const logout: Step = { method: 'POST', url: '/pp/logout' };
const view: Step = { method: 'POST', url: '/pp/view' };

function sidOf(agent: Agent): string | undefined {
  const cookie = agent.jar.getCookie('connect.sid', new CookieAccessInfo('127.0.0.1', '/'));
  return cookie?.value;
}

/** Users the store holds sessions for, sorted: the server-side state. */
function signedIn(store: session.MemoryStore): string[] {
  const all = (store as unknown as { sessions: Record<string, string> }).sessions;
  return Object.values(all)
    .map((text) => (JSON.parse(text) as { passport?: { user?: string } }).passport?.user)
    .filter((user): user is string => typeof user === 'string')
    .sort();
}

async function run(
  t: TestApp,
  store: session.MemoryStore,
  steps: Step[],
  batched: boolean,
  prime?: Step[],
) {
  store.clear();
  const agent = t.browser();
  for (const step of prime ?? []) {
    await (
      step.method === 'GET' ? agent.get(step.url) : agent.post(step.url).send(step.body ?? {})
    ).expect(200);
  }
  const before = sidOf(agent);
  let bodies: unknown[];
  if (batched) {
    const reply = await agent
      .post('/batch')
      .send({
        data: steps.map((step, index) => ({
          ...step,
          name: `s${index}`,
          ...(index > 0 ? { dependsOn: [`s${index - 1}`] } : {}),
        })),
      })
      .expect(200);
    bodies = (reply.body as { data: { code: number; body: unknown }[] }).data.map((entry) => [
      entry.code,
      entry.body,
    ]);
  } else {
    bodies = [];
    for (const step of steps) {
      const response = await (step.method === 'GET'
        ? agent.get(step.url)
        : agent.post(step.url).send(step.body ?? {}));
      bodies.push([response.status, response.body]);
    }
  }
  const after = (await agent.get('/pp/me').expect(200)).body as unknown;
  // The cookie the browser held before: still a session of someone?
  const replayed = before
    ? ((await t.http.get('/pp/me').set('cookie', `connect.sid=${before}`).expect(200))
        .body as unknown)
    : undefined;
  return { bodies, after, replayed, sidChanged: before !== sidOf(agent), store: signedIn(store) };
}

const options: [string, Omit<session.SessionOptions, 'secret'>][] = [
  ['defaults (resave, saveUninitialized)', {}],
  [
    'resave: false, saveUninitialized: false, rolling, maxAge',
    { resave: false, saveUninitialized: false, rolling: true, cookie: { maxAge: 60_000 } },
  ],
];

const scenarios: [string, Step[], Step[] | undefined][] = [
  ['login, me, logout, me from a new browser', [loginAs('alice'), me, view, logout, me], undefined],
  ['login as bob while alice', [loginAs('bob'), me, view], [loginAs('alice'), view]],
  ['logout while alice', [logout, me, view], [loginAs('alice'), view]],
  ['logout then login again', [logout, loginAs('bob'), me], [loginAs('alice')]],
  [
    'view, login, view (fixation: the pre-login session id must not carry the user)',
    [view, loginAs('alice'), view],
    [view],
  ],
];

describe.each(options)('express: passport-local + express-session %s', (_, sessionOptions) => {
  const store = new session.MemoryStore();
  const configure = (app: INestApplication): void => {
    app.use(session({ secret: 'test secret', store, ...sessionOptions }));
    app.use(passport.session());
  };

  it.each(scenarios)(
    '%s: the batch leaves what the requests sent directly leave',
    async (_name, steps, prime) => {
      await withTestApp(
        { platform: expressPlatform, imports: [PassportSessionModule], configure },
        async (t) => {
          const direct = await run(t, store, steps, false, prime);
          const batched = await run(t, store, steps, true, prime);
          expect(batched).toEqual(direct);
        },
      );
    },
  );
});
