import {
  type DynamicModule,
  type INestApplication,
  type ModuleMetadata,
  ValidationPipe,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { BatchModule, type BatchModuleExtras, type BatchModuleOptions } from 'nestjs-batch';
import type { Server } from 'node:http';
import request from 'supertest';
import { FixtureModule } from '../fixtures/fixture.module.js';
import { Recorder } from '../fixtures/recorder.service.js';
import { currentPlatform, type Platform } from './platforms.js';

export interface TestApp {
  app: INestApplication;
  http: ReturnType<typeof request>;
  /** A client that keeps cookies between requests, as a browser does; HTTP/2 on an HTTP/2 app. */
  browser(): ReturnType<typeof request.agent>;
  recorder: Recorder;
  close(): Promise<void>;
}

export interface TestAppOptions {
  batch?: BatchModuleOptions & BatchModuleExtras;
  /** Installs the strict global ValidationPipe many apps use. */
  strictValidation?: boolean;
  imports?: ModuleMetadata['imports'];
  /** The BatchModule import to use instead of `BatchModule.forRoot(batch)`. */
  module?: DynamicModule;
  configure?: (app: INestApplication) => void;
  /** Trust proxy, set on either adapter. */
  trustProxy?: boolean | number | string;
  /** The adapter; by default the one of the enclosing `forEachPlatform` block. */
  platform?: Platform;
  /** Options of the app itself, as `NestFactory.create` takes them. */
  app?: { rawBody?: boolean };
}

/** A real Nest app with the fixture API and BatchModule, listening on a free port. */
export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      FixtureModule,
      options.module ?? BatchModule.forRoot(options.batch ?? {}),
      ...(options.imports ?? []),
    ],
  }).compile();
  const platform = options.platform ?? currentPlatform();
  const app = moduleRef.createNestApplication(
    platform.create({ trustProxy: options.trustProxy }),
    // Nest's options type is a class; its docs pass a literal, as apps do.
    // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment
    options.app,
  );
  app.useLogger(false);
  if (options.strictValidation ?? true) {
    app.useGlobalPipes(
      new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }),
    );
  }
  options.configure?.(app);
  await app.listen(0, '127.0.0.1');
  const server = app.getHttpServer() as Parameters<typeof request>[0];
  return {
    app,
    http: request(server, { http2: platform.http2 === true }),
    browser: () => request.agent(server, { http2: platform.http2 === true }),
    recorder: app.get(Recorder),
    close: () => closeApp(app),
  };
}

/**
 * Closes an app even when a client left a connection open: undici reconnects after a fetch
 * whose body was cancelled, and Fastify's close waits for every connection to end.
 */
async function closeApp(app: INestApplication): Promise<void> {
  const server = app.getHttpServer() as Partial<Server>;
  const closing = app.close();
  // An HTTP/2 server has sessions, not connections, and no such method.
  setTimeout(() => server.closeAllConnections?.(), 500).unref();
  await closing;
}

/** Posts a native batch. */
export function postBatch(
  t: TestApp,
  data: unknown[],
  headers: Record<string, string> = {},
): ReturnType<TestApp['http']['post']> {
  return t.http.post('/batch').set(headers).send({ data });
}

/** Work done by the app beyond receiving the batch request itself. */
export function sideEffects(t: TestApp): number {
  return t.recorder.total() - t.recorder.count('middleware POST /batch');
}

/** The entries of a batch reply, typed loosely for assertions. */
export interface Entry {
  method: string;
  url: string;
  code: number;
  headers: Record<string, string | string[]>;
  body?: any;
  bodyEncoding?: string;
}

export function entries(response: { body: unknown }): (Entry | null)[] {
  return (response.body as { data: (Entry | null)[] }).data;
}

/**
 * A test app for the enclosing `describe`: started before its tests, closed after them, its
 * recorder reset before each. The returned handle reads the app of the moment.
 */
export function useTestApp(options: TestAppOptions = {}): TestApp {
  let current: TestApp | undefined;
  beforeAll(async () => {
    current = await createTestApp(options);
  });
  afterAll(() => current?.close());
  beforeEach(() => current?.recorder.reset());
  const get = (): TestApp => {
    if (!current) throw new Error('useTestApp: the app is started in beforeAll');
    return current;
  };
  return {
    get app() {
      return get().app;
    },
    get http() {
      return get().http;
    },
    browser: () => get().browser(),
    get recorder() {
      return get().recorder;
    },
    close: () => get().close(),
  };
}

/**
 * Runs `test` against an app of its own, made with `options`, and closes the app afterwards
 * whatever happened: for tests whose app differs from their block's (`useTestApp`).
 */
export async function withTestApp(
  options: TestAppOptions,
  test: (t: TestApp) => Promise<void>,
): Promise<void> {
  const t = await createTestApp(options);
  try {
    await test(t);
  } finally {
    await t.close();
  }
}

/** The port the test app listens on. */
export function portOf(t: TestApp): number {
  return (t.app.getHttpServer() as { address(): { port: number } }).address().port;
}

/** The full URL of the test app's batch endpoint, for clients that need one. */
export function endpointOf(t: TestApp, path = '/batch'): string {
  return `http://127.0.0.1:${portOf(t)}${path}`;
}

/** The `Set-Cookie` lines of a reply, none as an empty list. */
export function setCookiesOf(response: { headers: Record<string, unknown> }): string[] {
  const value = response.headers['set-cookie'];
  if (Array.isArray(value)) return value as string[];
  return typeof value === 'string' ? [value] : [];
}

/**
 * Configures the app's JSON parser to take bodies up to `bytes`, as an app that takes uploads
 * does, on either adapter and on Nest 11 and 12 (Nest 11's Fastify `useBodyParser` parses nothing
 * without a parser of its own).
 */
export function jsonUpTo(bytes: number): (app: INestApplication) => void {
  return (app) => {
    const parsers = app as unknown as {
      useBodyParser(
        type: string,
        options: object,
        parser?: (
          request: unknown,
          body: Buffer,
          done: (error: unknown, value?: unknown) => void,
        ) => void,
      ): void;
    };
    if (currentPlatform().name === 'express') {
      parsers.useBodyParser('json', { limit: bytes });
      return;
    }
    parsers.useBodyParser('application/json', { bodyLimit: bytes }, (_request, body, done) => {
      try {
        done(null, JSON.parse(body.toString('utf8')));
      } catch (error) {
        done(error);
      }
    });
  };
}
