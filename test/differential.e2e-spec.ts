import { AccountModule } from './fixtures/account.fixtures.js';
import { GlobalPipelineModule } from './fixtures/global-pipeline.fixtures.js';
import { CounterModule, mountSessions } from './fixtures/sessions.fixtures.js';
import { ENTRY_HEADERS_DROPPED } from 'nestjs-batch';
import { forEachPlatform } from './utils/platforms.js';
import { useTestApp, type Entry } from './utils/test-app.js';

/** One request of the corpus, as a client sends it directly and as a batch operation. */
interface Sample {
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  body?: object;
}

/**
 * Requests that touch every kind of pipeline piece the app has: guards (pass, refuse), pipes
 * (ParseIntPipe, a strict ValidationPipe), filters (a custom one, Nest's own for 404 and 500),
 * interceptors (transform, serializer, timeout, observing, a header stamp), a session, cookies,
 * text and binary bodies. None changes state a later one reads, so the order they run in cannot
 * matter.
 */
const corpus: Sample[] = [
  { method: 'GET', url: '/items/999' },
  { method: 'GET', url: '/items/abc' },
  { method: 'GET', url: '/items?name=none' },
  { method: 'POST', url: '/items', body: { qty: -1 } },
  { method: 'POST', url: '/items', body: { name: 'x', extra: true } },
  { method: 'GET', url: '/secret' },
  { method: 'GET', url: '/secret', headers: { authorization: 'Bearer good' } },
  { method: 'GET', url: '/teapot' },
  { method: 'GET', url: '/boom' },
  { method: 'GET', url: '/text' },
  { method: 'GET', url: '/binary' },
  { method: 'GET', url: '/nowhere' },
  { method: 'DELETE', url: '/vault/public' },
  { method: 'GET', url: '/pipeline/account/5' },
  { method: 'GET', url: '/pipeline/too-slow' },
  { method: 'GET', url: '/counter' },
  { method: 'GET', url: '/account/me' },
];

/** Headers that differ between any two responses, or describe the connection, not the answer. */
const VOLATILE = new Set(['date', 'x-response-time', 'connection', 'keep-alive']);

/** Headers for comparison: volatile ones out, cookies without their (random) values. */
/** Set-Cookie values as a browser keeps them: the last one per name, domain and path. */
function cookieState(cookies: unknown): string[] | undefined {
  if (cookies === undefined) return undefined;
  const state = new Map<string, string>();
  for (const cookie of [cookies].flat() as string[]) {
    const [pair = '', ...attributes] = cookie.split(';').map((part) => part.trim());
    const attribute = (name: string): string =>
      attributes.find((a) => a.toLowerCase().startsWith(`${name}=`))?.toLowerCase() ?? '';
    const key = `${pair.split('=')[0] ?? ''};${attribute('domain')};${attribute('path')}`;
    state.delete(key);
    state.set(key, cookie);
  }
  return [...state.values()];
}

function comparable(headers: Record<string, unknown>): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(headers)) {
    // `:status` and the like: how HTTP/2 carries the status line, not headers of the answer.
    if (VOLATILE.has(name) || name.startsWith(':')) continue;
    kept[name] =
      name === 'set-cookie'
        ? ([value].flat() as string[]).map((cookie) => cookie.replace(/=[^;]*/, '=…'))
        : value;
  }
  return kept;
}

/** The body bytes of an entry, as the direct response would have sent them. */
function entryBytes(entry: Entry): Buffer {
  if (entry.body === undefined) return Buffer.alloc(0);
  if (entry.bodyEncoding === 'base64') return Buffer.from(entry.body as string, 'base64');
  if (typeof entry.body === 'string') return Buffer.from(entry.body);
  return Buffer.from(JSON.stringify(entry.body));
}

forEachPlatform((platform) => {
  describe('a realistic app: each request sent directly and as a one-operation batch answers the same', () => {
    // Every header, so the comparison with the direct answer is whole; what the default policy
    // leaves out is checked against that, name by name, below.
    const t = useTestApp({
      batch: { entryHeaders: 'all' },
      imports: [GlobalPipelineModule, CounterModule, AccountModule],
      configure: mountSessions(platform, { secret: 'test secret', resave: true }),
    });

    it.each(corpus.map((sample) => [`${sample.method} ${sample.url}`, sample]))(
      '%s',
      async (_, sample) => {
        // A browser with a session, as the app's users are.
        const browser = t.browser();
        await browser.post('/counter/bump').expect(200);

        let direct = browser[
          sample.method === 'GET' ? 'get' : sample.method === 'POST' ? 'post' : 'delete'
        ](sample.url);
        direct = direct.set(sample.headers ?? {});
        if (sample.body) direct = direct.send(sample.body);
        const directResponse = await direct.buffer(true).parse((res, done) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => done(null, Buffer.concat(chunks)));
        });

        const batch = await browser
          .post('/batch')
          .send({ data: [{ ...sample, headers: sample.headers }] })
          .expect(200);
        const [entry] = (batch.body as { data: Entry[] }).data;
        if (!entry) throw new Error('no entry');

        expect(entry.code).toBe(directResponse.status);
        const bytes = directResponse.body as Buffer;
        const type = directResponse.headers['content-type'] ?? '';
        if (type.includes('json')) {
          expect(JSON.parse(entryBytes(entry).toString('utf8'))).toEqual(
            JSON.parse(bytes.toString('utf8')),
          );
        } else {
          expect(entryBytes(entry).equals(bytes)).toBe(true);
        }
        // The cookies come on the batch reply, as on the direct response, and never in the entry
        // a script reads.
        const { 'set-cookie': directCookies, ...directHeaders } = comparable(
          directResponse.headers,
        );
        expect(comparable(entry.headers)).toEqual(directHeaders);
        // Compared as the cookies a browser ends with: a cookie set twice (Fastify's session sets
        // it again on send) is one cookie, and the reply relays it once.
        expect(cookieState(comparable(batch.headers)['set-cookie'])).toEqual(
          cookieState(directCookies),
        );

        // The default policy: the same headers but exactly ENTRY_HEADERS_DROPPED (content-length
        // only where the entry has a body).
        const essential = await browser
          .post('/batch?entryHeaders=essential')
          .send({ data: [{ ...sample, headers: sample.headers }] })
          .expect(200);
        const [lean] = (essential.body as { data: Entry[] }).data;
        const dropped = (name: string): boolean =>
          ENTRY_HEADERS_DROPPED.includes(name) &&
          (name !== 'content-length' || lean?.body !== undefined);
        const expected = Object.fromEntries(
          Object.entries(directHeaders).filter(([name]) => !dropped(name)),
        );
        expect(comparable(lean?.headers ?? {})).toEqual(expected);
      },
    );
  });
});
