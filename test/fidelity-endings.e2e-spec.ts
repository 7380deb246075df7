/**
 * A response that ends badly after its headers went out, reached directly and as an operation,
 * on both adapters: what the browser keeps of it (the cookies in its headers, which it stores as
 * they arrive, whatever happens to the body) and, for a batch a page of another origin sent, what
 * that page may read of it. A fetch() of a response whose headers fail the CORS check rejects
 * with a network error at the headers, before any body: the page learns neither the status nor
 * that the body then broke off.
 */
import {
  Controller,
  Get,
  Headers,
  type INestApplication,
  Injectable,
  Module,
  Options,
  Put,
  Res,
} from '@nestjs/common';
import { BatchListener, type BatchOperationFinishEvent } from 'nestjs-batch';
import cors, { type CorsOptions } from 'cors';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { currentPlatform, forEachPlatform } from './utils/platforms.js';
import { bodyText, direct, expectedOf, viewOf } from './utils/direct-view.js';
import { baseOf, readText } from './utils/raw-http.js';
import {
  entries,
  setCookiesOf,
  useTestApp,
  withTestApp,
  type Entry,
  type TestApp,
} from './utils/test-app.js';
import { takeOverResponse } from './utils/node-response.js';

const PARTNER = 'https://partner.example';
/** A status no other part of the answer carries: its absence from an entry is meaningful. */
const SENT_STATUS = 207;
/** The status of a preflight answer no other part of the test carries. */
const PREFLIGHT_STATUS = 418;
/** The batch timeout, far past Jest's: an operation that waited for it fails the test first. */
const NEVER = 60_000;

/** Sets a cookie, sends its headers and part of its body, then is destroyed. */
function abortAfterHeaders(reply: object, cookie: string): void {
  const res = takeOverResponse(reply, { withReplyHeaders: true });
  res.setHeader('set-cookie', `${cookie}; Path=/; HttpOnly`);
  res.writeHead(SENT_STATUS, { 'content-type': 'text/plain', 'x-secret': 'hidden' });
  res.write('secret partial body', () => res.destroy());
}

/** Requests to the event routes the app saw closed before their response ended. */
const eventsClosed: string[] = [];

function streamForever(reply: object, clearSiteData = false): void {
  const res = takeOverResponse(reply, { withReplyHeaders: true });
  res.setHeader('set-cookie', 'events=1; Path=/; HttpOnly');
  // A logout that streams on: the browser clears the site's cookies at these headers.
  if (clearSiteData) res.setHeader('clear-site-data', '"cookies"');
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  res.write('data: first secret event\n\n');
  res.once('close', () => {
    if (!res.writableEnded) eventsClosed.push(res.req.url ?? '');
  });
}

@Controller()
class AbortingController {
  /** Under no CORS policy: a page of another origin may not read it. */
  @Get('private/aborted')
  privateAborted(@Res() reply: object): void {
    abortAfterHeaders(reply, 'private-aborted=1');
  }

  /** Under the CORS policy: the partner's page may read its headers. */
  @Get('public/aborted')
  publicAborted(@Res() reply: object): void {
    abortAfterHeaders(reply, 'public-aborted=1');
  }

  /** Sends its headers and a first event, then streams on (server-sent events) until closed. */
  @Get('private/events')
  privateEvents(@Res() reply: object): void {
    streamForever(reply);
  }

  @Get('public/events')
  publicEvents(@Res() reply: object): void {
    streamForever(reply);
  }

  /** A logout (`Clear-Site-Data: "cookies"`) whose body then breaks off. */
  @Get('private/logout-aborted')
  logoutAborted(@Res() reply: object): void {
    takeOverResponse(reply, { withReplyHeaders: true }).setHeader('clear-site-data', '"cookies"');
    abortAfterHeaders(reply, 'after-logout=1');
  }

  /** A logout whose body streams on until it is closed. */
  @Get('private/logout-events')
  logoutEvents(@Res() reply: object): void {
    streamForever(reply, true);
  }

  /**
   * A logout the partner's page may read (under the CORS policy), which does not expose its
   * `Clear-Site-Data`: it ends as any answer does.
   */
  @Get('public/logout')
  publicLogout(@Res() reply: object): void {
    const res = takeOverResponse(reply, { withReplyHeaders: true });
    res.setHeader('clear-site-data', '"cookies"');
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('bye');
  }

  /** The cookies a request carried, under the CORS policy. */
  @Get('public/cookies')
  publicCookies(@Headers('cookie') cookie?: string): { cookie: string | null } {
    return { cookie: cookie ?? null };
  }

  /** A login: its session cookie is what the browser must keep. */
  @Get('private/login')
  login(@Res({ passthrough: true }) reply: object): { user: string } {
    // Express's response and Fastify's reply both set a header with `header(name, value)`.
    (reply as { header(name: string, value: string): unknown }).header(
      'set-cookie',
      'sid=login; Path=/; HttpOnly',
    );
    return { user: 'me' };
  }

  /** A preflight the app answers with a status and a header of its own, allowing nothing. */
  @Options('private/guarded')
  guardedPreflight(@Res() reply: object): void {
    const res = takeOverResponse(reply, { withReplyHeaders: true });
    res.writeHead(PREFLIGHT_STATUS, { 'x-preflight-secret': 'hidden' });
    res.end();
  }

  @Put('private/guarded')
  guarded(): { changed: boolean } {
    return { changed: true };
  }

  /** The cookies a request carried. */
  @Get('private/cookies')
  cookies(@Headers('cookie') cookie?: string): { cookie: string | null } {
    return { cookie: cookie ?? null };
  }
}

/** A body of a given text under a Content-Length the handler computed. */
function withLength(reply: object, text: string, length: number): void {
  const res = takeOverResponse(reply, { withReplyHeaders: true });
  res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': length });
  res.end(text);
}

const TEXT = 'héllo wörld';

@Controller('lengths')
class LengthsController {
  /** The bug of a length counted in characters: two bytes more than it declares. */
  @Get('counted-in-characters')
  countedInCharacters(@Res() reply: object): void {
    withLength(reply, TEXT, TEXT.length);
  }

  /** Declares more than it sends, then ends. */
  @Get('longer-than-body')
  longerThanBody(@Res() reply: object): void {
    withLength(reply, TEXT, Buffer.byteLength(TEXT) + 10);
  }

  @Get('exact')
  exact(@Res() reply: object): void {
    withLength(reply, TEXT, Buffer.byteLength(TEXT));
  }
}

/** What the server side hears of each operation: its events. */
const heard: BatchOperationFinishEvent[] = [];

@BatchListener()
@Injectable()
class HearingListener {
  onOperationFinish(event: BatchOperationFinishEvent): void {
    heard.push(event);
  }
}

@Module({ controllers: [AbortingController, LengthsController], providers: [HearingListener] })
class AbortingModule {}

/** Why CORS hid a response, as the check says it: for the server's eyes, not the page's. */
const CORS_DETAIL = /Access-Control-Allow-Origin/;

const POLICY: CorsOptions = { origin: PARTNER, credentials: true };
const CORS_ROUTES = /^\/(?:batch|public)(?:[/?]|$)/;

function configure(app: INestApplication): void {
  if (currentPlatform().name === 'express') {
    app.use(['/batch', '/public'], cors(POLICY));
  } else {
    app.enableCors((request: { url?: string }, callback: (e: null, o: object) => void) =>
      callback(null, CORS_ROUTES.test(request.url ?? '') ? POLICY : { origin: false }),
    );
  }
}

/** What a browser tells the app about a fetch() from the partner's page, with the user's cookie. */
const FROM_PARTNER = {
  origin: PARTNER,
  cookie: 'session=user',
  'sec-fetch-site': 'cross-site',
  'sec-fetch-mode': 'cors',
  'sec-fetch-dest': 'empty',
};

/** The headers a client reached directly receives before the response drops, and that it drops. */
function directHeaders(
  base: string,
  path: string,
  headers: Record<string, string>,
  /** Stop at the headers, for a response that never ends. */
  headersOnly = false,
  method = 'GET',
): Promise<{ status: number; headers: IncomingHttpHeaders; complete: boolean }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(path, base), { agent: false, headers, method }, (res) => {
      if (headersOnly) {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, complete: false });
        req.destroy();
        return;
      }
      res.resume();
      res.on('error', () => undefined);
      res.on('close', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, complete: res.complete }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

/** Whether a credentialed fetch() from the partner's page may read a response with these headers. */
function partnerMayRead(headers: IncomingHttpHeaders): boolean {
  return (
    headers['access-control-allow-origin'] === PARTNER &&
    headers['access-control-allow-credentials'] === 'true'
  );
}

function textOf(entry: Entry | null | undefined): string {
  if (!entry) throw new Error('no entry');
  return bodyText(entry);
}

function postBatch(t: TestApp, data: unknown[], headers: Record<string, string> = {}) {
  return t.http.post('/batch').set(headers).send({ data });
}

forEachPlatform(() => {
  describe('a response that ends badly after its headers', () => {
    const t = useTestApp({
      // One operation at a time, in order: the second starts once the first has ended.
      batch: { timeout: NEVER, concurrency: 1 },
      imports: [AbortingModule],
      strictValidation: false,
      configure,
    });

    it('gives the browser its cookies, directly and through the batch reply', async () => {
      const seen = await directHeaders(baseOf(t), '/private/aborted', {});
      expect(seen.complete).toBe(false);
      expect(seen.status).toBe(SENT_STATUS);
      expect(seen.headers['set-cookie']).toEqual(['private-aborted=1; Path=/; HttpOnly']);

      const response = await postBatch(t, [{ method: 'GET', url: '/private/aborted' }]).expect(200);
      const [entry] = entries(response);
      expect(entry).toMatchObject({ code: 502, body: { reason: 'response-aborted' } });
      expect(entry?.headers).not.toHaveProperty('set-cookie');
      expect(setCookiesOf(response)).toEqual(['private-aborted=1; Path=/; HttpOnly']);
      // What a client had read before the drop, for one that stands in for fetch; no cookie.
      expect(entry?.body.sent).toMatchObject({
        code: SENT_STATUS,
        headers: { 'content-type': 'text/plain', 'x-secret': 'hidden' },
      });
      expect(entry?.body.sent.headers).not.toHaveProperty('set-cookie');
    });

    it("keeps its cookies for the batch's later operations", async () => {
      const response = await postBatch(t, [
        { method: 'GET', url: '/private/aborted' },
        // Not a dependent (a failed dependency's is not run): after it, by `concurrency: 1`.
        { method: 'GET', url: '/private/cookies' },
      ]).expect(200);
      const [, echo] = entries(response);
      expect(echo).toMatchObject({ code: 200, body: { cookie: 'private-aborted=1' } });
    });

    // Directly, the browser applies Clear-Site-Data when the headers arrive, as it stores their
    // cookies: the body breaking off after them undoes neither.
    it("applies its Clear-Site-Data: the later operations send no cookie, and the reply clears the browser's", async () => {
      const seen = await directHeaders(baseOf(t), '/private/logout-aborted', {});
      expect(seen.complete).toBe(false);
      expect(seen.headers['clear-site-data']).toBe('"cookies"');

      const response = await postBatch(
        t,
        [
          { method: 'GET', url: '/private/logout-aborted' },
          { method: 'GET', url: '/private/cookies' },
        ],
        { cookie: 'sid=mine' },
      ).expect(200);
      const [aborted, echo] = entries(response);
      expect(aborted).toMatchObject({ code: 502, body: { reason: 'response-aborted' } });
      // The entry's own headers are the failure's; what was sent is under `body.sent`.
      expect(aborted?.headers).not.toHaveProperty('clear-site-data');
      expect(aborted?.body.sent.headers).toMatchObject({ 'clear-site-data': '"cookies"' });
      expect(echo).toMatchObject({ code: 200, body: { cookie: null } });
      expect(response.headers['clear-site-data']).toBe('"cookies"');
      // Set before the clearing, by the same response: the browser drops it too.
      expect(setCookiesOf(response)).toEqual([]);
    });

    describe("in a batch a page of another origin sent (operationCors: 'browser')", () => {
      it('is a CORS refusal that shows nothing of it when the page could not read it', async () => {
        const seen = await directHeaders(baseOf(t), '/private/aborted', FROM_PARTNER);
        expect(seen.complete).toBe(false);
        // fetch() rejects at these headers: no status, no body, no hint the body broke off.
        expect(partnerMayRead(seen.headers)).toBe(false);

        const response = await postBatch(
          t,
          [{ method: 'GET', url: '/private/aborted' }],
          FROM_PARTNER,
        ).expect(200);
        const [entry] = entries(response);
        expect(entry).toMatchObject({ code: 403, body: { statusCode: 403, reason: 'cors' } });
        expect(JSON.stringify(entry)).not.toContain(String(SENT_STATUS));
        expect(JSON.stringify(entry)).not.toContain('secret');
        expect(Object.keys(entry?.headers ?? {})).toEqual(['content-type']);
        // The browser stores the cookies of a response its page may not read.
        expect(setCookiesOf(response)).toEqual(['private-aborted=1; Path=/; HttpOnly']);
      });

      it('tells the page only that CORS hid the response; a batch listener hears why', async () => {
        heard.length = 0;
        const response = await postBatch(
          t,
          [{ method: 'GET', url: '/private/cookies' }],
          FROM_PARTNER,
        ).expect(200);
        const [entry] = entries(response);
        // fetch() gives script a bare network error; devtools, not the page, show why.
        expect(entry).toMatchObject({ code: 403, body: { reason: 'cors' } });
        expect(entry?.body.message).toMatch(/CORS/);
        expect(JSON.stringify(entry)).not.toMatch(CORS_DETAIL);
        expect(heard).toHaveLength(1);
        expect(heard[0]).toMatchObject({ status: 403, reason: 'cors' });
        expect(heard[0]?.detail).toMatch(CORS_DETAIL);
      });

      it('is response-aborted when the page could read its headers', async () => {
        const seen = await directHeaders(baseOf(t), '/public/aborted', FROM_PARTNER);
        expect(seen.complete).toBe(false);
        // fetch() resolves with the status; reading the body then fails.
        expect(partnerMayRead(seen.headers)).toBe(true);

        const response = await postBatch(
          t,
          [{ method: 'GET', url: '/public/aborted' }],
          FROM_PARTNER,
        ).expect(200);
        const [entry] = entries(response);
        expect(entry).toMatchObject({ code: 502, body: { reason: 'response-aborted' } });
        expect(entry?.body.message).toContain(`(${SENT_STATUS})`);
        // The status and only the headers the page may read.
        expect(entry?.body.sent).toMatchObject({ code: SENT_STATUS });
        expect(entry?.body.sent.headers['content-type']).toBe('text/plain');
        expect(JSON.stringify(entry)).not.toContain('secret');
        expect(Object.keys(entry?.headers ?? {})).toEqual(['content-type']);
        expect(setCookiesOf(response)).toEqual(['public-aborted=1; Path=/; HttpOnly']);
      });
      // The browser applies Clear-Site-Data from the response's headers, whatever CORS lets the
      // page read of them: a logout the page may read but whose header it may not clears too.
      it('applies the Clear-Site-Data of an answer the page may read, exposed or not', async () => {
        const seen = await directHeaders(baseOf(t), '/public/logout', FROM_PARTNER);
        expect(partnerMayRead(seen.headers)).toBe(true);
        expect(seen.headers['clear-site-data']).toBe('"cookies"');
        expect(seen.headers['access-control-expose-headers']).toBeUndefined();

        const response = await postBatch(
          t,
          [
            { method: 'GET', url: '/public/logout' },
            { method: 'GET', url: '/public/cookies' },
          ],
          FROM_PARTNER,
        ).expect(200);
        const [logout, echo] = entries(response);
        expect(logout).toMatchObject({ code: 200 });
        // Nor does the page read it, which CORS hides.
        expect(logout?.headers).not.toHaveProperty('clear-site-data');
        expect(echo).toMatchObject({ code: 200, body: { cookie: null } });
        expect(response.headers['clear-site-data']).toBe('"cookies"');
      });
    });

    describe('a response that streams on after its headers, to a page of another origin', () => {
      it('is a CORS refusal as its headers arrive when the page may not read it', async () => {
        const seen = await directHeaders(baseOf(t), '/private/events', FROM_PARTNER, true);
        expect(partnerMayRead(seen.headers)).toBe(false);
        eventsClosed.length = 0;
        const response = await postBatch(
          t,
          [{ method: 'GET', url: '/private/events' }],
          FROM_PARTNER,
        ).expect(200);
        const [entry] = entries(response);
        // fetch() rejects at the headers, and the browser drops the request.
        expect(entry).toMatchObject({ code: 403, body: { reason: 'cors' } });
        expect(JSON.stringify(entry)).not.toContain('secret');
        expect(setCookiesOf(response)).toEqual(['events=1; Path=/; HttpOnly']);
        expect(eventsClosed).toContain('/private/events');
      });

      it('is left to stream when the page may read it (it ends at a timeout)', async () => {
        const seen = await directHeaders(baseOf(t), '/public/events', FROM_PARTNER, true);
        expect(partnerMayRead(seen.headers)).toBe(true);
        await withTestApp(
          {
            batch: { operationTimeout: 200 },
            imports: [AbortingModule],
            strictValidation: false,
            configure,
          },
          async (other) => {
            const response = await postBatch(
              other,
              [{ method: 'GET', url: '/public/events' }],
              FROM_PARTNER,
            ).expect(200);
            const [entry] = entries(response);
            expect(entry).toMatchObject({ code: 504, body: { reason: 'operation-timeout' } });
            // fetch() had resolved with the status: the page had read it, as a 502 names it.
            expect(entry?.body.message).toContain(`headers (${seen.status})`);
            expect(JSON.stringify(entry)).not.toContain('secret');
            // The browser stored the cookies of the headers it had read.
            expect(setCookiesOf(response)).toEqual(['events=1; Path=/; HttpOnly']);
          },
        );
      });
    });

    describe('a response cut off by a timeout after its headers went out', () => {
      /** The batch's operations, one at a time: the echo starts once the stream has ended. */
      const STREAM_THEN_ECHO = [
        { method: 'GET', url: '/private/events' },
        { method: 'GET', url: '/private/cookies' },
      ];
      const TIMED = {
        imports: [AbortingModule],
        strictValidation: false,
        configure,
      };
      /** Atomic groups (a transaction hook that runs the work), an operation timing out in 200 ms. */
      const GROUPED_TIMED = {
        ...TIMED,
        batch: {
          operationTimeout: 200,
          concurrency: 1,
          transaction: (work: () => Promise<void>) => work(),
        },
      };

      it('gives the browser the cookies of its headers, as a direct request does', async () => {
        const seen = await directHeaders(baseOf(t), '/private/events', {}, true);
        expect(seen.headers['set-cookie']).toEqual(['events=1; Path=/; HttpOnly']);
      });

      it('at operationTimeout: relays them, and the later operations send them', async () => {
        await withTestApp(
          { ...TIMED, batch: { operationTimeout: 200, concurrency: 1 } },
          async (other) => {
            const response = await postBatch(other, STREAM_THEN_ECHO).expect(200);
            const [stream, echo] = entries(response);
            expect(stream).toMatchObject({ code: 504, body: { reason: 'operation-timeout' } });
            expect(stream?.body.message).toContain('headers (200)');
            expect(stream?.headers).not.toHaveProperty('set-cookie');
            // What a client had read of it, for one that stands in for fetch; no cookie.
            expect(stream?.body.sent).toMatchObject({
              code: 200,
              headers: { 'content-type': 'text/event-stream' },
            });
            expect(stream?.body.sent.headers).not.toHaveProperty('set-cookie');
            expect(echo).toMatchObject({ code: 200, body: { cookie: 'events=1' } });
            expect(setCookiesOf(response)).toEqual(['events=1; Path=/; HttpOnly']);
          },
        );
      });

      it('at the batch timeout: relays them with the unfinished entry null', async () => {
        await withTestApp({ ...TIMED, batch: { timeout: 300 } }, async (other) => {
          const response = await postBatch(other, [STREAM_THEN_ECHO[0]]).expect(200);
          expect(entries(response)).toEqual([null]);
          expect(setCookiesOf(response)).toEqual(['events=1; Path=/; HttpOnly']);
        });
      });

      it('at operationTimeout: applies its Clear-Site-Data, as the browser does at its headers', async () => {
        const seen = await directHeaders(baseOf(t), '/private/logout-events', {}, true);
        expect(seen.headers['clear-site-data']).toBe('"cookies"');
        await withTestApp(
          { ...TIMED, batch: { operationTimeout: 200, concurrency: 1 } },
          async (other) => {
            const response = await postBatch(
              other,
              [{ method: 'GET', url: '/private/logout-events' }, STREAM_THEN_ECHO[1]],
              { cookie: 'sid=mine' },
            ).expect(200);
            const [stream, echo] = entries(response);
            expect(stream).toMatchObject({ code: 504, body: { reason: 'operation-timeout' } });
            expect(stream?.headers).not.toHaveProperty('clear-site-data');
            expect(echo).toMatchObject({ code: 200, body: { cookie: null } });
            expect(response.headers['clear-site-data']).toBe('"cookies"');
          },
        );
      });

      it('at the batch timeout: applies its Clear-Site-Data with the unfinished entry null', async () => {
        await withTestApp({ ...TIMED, batch: { timeout: 300 } }, async (other) => {
          const response = await postBatch(other, [
            { method: 'GET', url: '/private/logout-events' },
          ]).expect(200);
          expect(entries(response)).toEqual([null]);
          expect(response.headers['clear-site-data']).toBe('"cookies"');
          expect(setCookiesOf(response)).toEqual([]);
        });
      });

      it('in an atomic group that is rolled back: drops its Clear-Site-Data too', async () => {
        await withTestApp(GROUPED_TIMED, async (other) => {
          const response = await postBatch(
            other,
            [
              { method: 'GET', url: '/private/logout-events', atomicityGroup: 'g' },
              STREAM_THEN_ECHO[1],
            ],
            { cookie: 'sid=mine' },
          ).expect(200);
          const [stream, echo] = entries(response);
          expect(stream).toMatchObject({ code: 504, body: { reason: 'operation-timeout' } });
          expect(echo).toMatchObject({ code: 200, body: { cookie: 'sid=mine' } });
          expect(response.headers['clear-site-data']).toBeUndefined();
        });
      });

      it('in an atomic group that is rolled back: drops them, as the rest of the group', async () => {
        await withTestApp(GROUPED_TIMED, async (other) => {
          const response = await postBatch(other, [
            { ...STREAM_THEN_ECHO[0], atomicityGroup: 'g' },
            STREAM_THEN_ECHO[1],
          ]).expect(200);
          const [stream, echo] = entries(response);
          expect(stream).toMatchObject({ code: 504, body: { reason: 'operation-timeout' } });
          expect(echo).toMatchObject({ code: 200, body: { cookie: null } });
          expect(setCookiesOf(response)).toEqual([]);
        });
      });

      it('in an atomic group cut off by the batch timeout: drops them', async () => {
        await withTestApp(
          {
            ...TIMED,
            batch: { timeout: 300, transaction: (work: () => Promise<void>) => work() },
          },
          async (other) => {
            const response = await postBatch(other, [
              { ...STREAM_THEN_ECHO[0], atomicityGroup: 'g' },
            ]).expect(200);
            expect(entries(response)).toEqual([null]);
            expect(setCookiesOf(response)).toEqual([]);
          },
        );
      });
    });

    describe("a preflight the app's answer does not allow", () => {
      it('tells the page only that the preflight failed, as fetch() does', async () => {
        const preflight = await directHeaders(
          baseOf(t),
          '/private/guarded',
          {
            origin: PARTNER,
            'access-control-request-method': 'PUT',
          },
          false,
          'OPTIONS',
        );
        // The browser reads nothing of it: fetch() rejects with a TypeError, no status.
        expect(preflight.status).toBe(PREFLIGHT_STATUS);
        expect(partnerMayRead(preflight.headers)).toBe(false);

        const response = await postBatch(
          t,
          [{ method: 'PUT', url: '/private/guarded' }],
          FROM_PARTNER,
        ).expect(200);
        const [entry] = entries(response);
        expect(entry).toMatchObject({ code: 403, body: { reason: 'cors' } });
        expect(entry?.body.message).toMatch(/preflight/);
        expect(JSON.stringify(entry)).not.toContain(String(PREFLIGHT_STATUS));
        expect(JSON.stringify(entry)).not.toContain('hidden');
        expect(JSON.stringify(entry)).not.toMatch(/Access-Control|answered/i);
      });

      it('tells a batch listener why the preflight did not allow it', async () => {
        heard.length = 0;
        await postBatch(t, [{ method: 'PUT', url: '/private/guarded' }], FROM_PARTNER).expect(200);
        expect(heard).toHaveLength(1);
        expect(heard[0]).toMatchObject({ status: 403, reason: 'cors' });
        expect(heard[0]?.detail).toContain(String(PREFLIGHT_STATUS));
      });
    });

    describe('a Content-Length the body does not match', () => {
      it('ends as complete with the bytes it declared when the body is longer', async () => {
        // What a browser (fetch, curl) reads: the declared bytes, then the connection is spoilt.
        const seen = await fetch(new URL('/lengths/counted-in-characters', baseOf(t)));
        const bytes = Buffer.from(await seen.arrayBuffer());
        expect(bytes.length).toBe(TEXT.length);

        const response = await postBatch(t, [
          { method: 'GET', url: '/lengths/counted-in-characters' },
        ]).expect(200);
        const [entry] = entries(response);
        expect(entry?.code).toBe(seen.status);
        expect(textOf(entry)).toBe(bytes.toString('utf8'));
        expect(textOf(entry)).not.toBe(TEXT);
      });

      it('is dropped after its headers when the body is shorter', async () => {
        const seen = await direct(baseOf(t), '/lengths/longer-than-body');
        expect(seen.kind).toBe('dropped-after-headers');

        const response = await postBatch(t, [
          { method: 'GET', url: '/lengths/longer-than-body' },
        ]).expect(200);
        const [entry] = entries(response);
        expect(viewOf(entry ?? null)).toBe(expectedOf(seen));
        expect(entry?.body.message).toMatch(/Content-Length/);
      });

      it('changes nothing when it matches', async () => {
        const seen = await direct(baseOf(t), '/lengths/exact');
        const response = await postBatch(t, [{ method: 'GET', url: '/lengths/exact' }]).expect(200);
        const [entry] = entries(response);
        expect(viewOf(entry ?? null)).toBe(expectedOf(seen));
        expect(seen).toMatchObject({ kind: 'complete', body: TEXT });
        expect(textOf(entry)).toBe(TEXT);
      });
    });

    describe('a login in a streamed (NDJSON) reply', () => {
      const LOGIN = [
        { method: 'GET', url: '/private/login' },
        { method: 'GET', url: '/private/cookies' },
      ];

      it("signs in the batch's later operations, but not the browser: its headers went first", async () => {
        const direct = await t.http.get('/private/login').expect(200);
        expect(setCookiesOf(direct)).toEqual(['sid=login; Path=/; HttpOnly']);
        const json = await postBatch(t, LOGIN).expect(200);
        expect(setCookiesOf(json)).toEqual(['sid=login; Path=/; HttpOnly']);

        const streamed = await postBatch(t, LOGIN, { accept: 'application/x-ndjson' })
          .buffer(true)
          .parse(readText)
          .expect(200);
        expect(streamed.headers['content-type']).toMatch(/^application\/x-ndjson/);
        const lines = (streamed.body as string)
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line) as Entry & { index: number });
        const echo = lines.find((line) => line.index === 1);
        expect(echo?.body).toEqual({ cookie: 'sid=login' });
        expect(setCookiesOf(streamed)).toEqual([]);
        expect(streamed.body).not.toContain('sid=login; Path');
      });
    });
  });
});
