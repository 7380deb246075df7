import type { AbstractHttpAdapter } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';

/** An HTTP adapter the suites run against, made fresh for each app. */
export interface Platform {
  readonly name: 'express' | 'fastify';
  /** Served over HTTP/2 (cleartext, h2c): clients must speak it too. */
  readonly http2?: boolean;
  /** `trustProxy` as each framework spells it: an Express setting, a Fastify server option. */
  create(options?: { trustProxy?: boolean | number | string }): AbstractHttpAdapter;
}

export const expressPlatform: Platform = {
  name: 'express',
  create: (options = {}) => {
    const adapter = new ExpressAdapter();
    if (options.trustProxy !== undefined) adapter.set('trust proxy', options.trustProxy);
    return adapter;
  },
};

export const fastifyPlatform: Platform = {
  name: 'fastify',
  create: (options = {}) =>
    new FastifyAdapter({ trustProxy: options.trustProxy as boolean | string | undefined }),
};

/** Fastify served over HTTP/2 without TLS, as `new FastifyAdapter({ http2: true })` does. */
export const fastifyHttp2Platform: Platform = {
  name: 'fastify',
  http2: true,
  create: (options = {}) =>
    new FastifyAdapter({
      http2: true,
      trustProxy: options.trustProxy as boolean | string | undefined,
    } as ConstructorParameters<typeof FastifyAdapter>[0]),
};

/** The part of a Fastify instance the hook tests use. */
export interface FastifyHooks {
  addHook(name: string, hook: (...args: never[]) => void): unknown;
}

/**
 * The adapters every suite runs on. `BATCH_E2E_HTTP2=1` runs them on Fastify over HTTP/2 alone
 * instead, to check nothing in the library assumes HTTP/1.1.
 */
export const platforms: readonly Platform[] =
  process.env.BATCH_E2E_HTTP2 === '1' ? [fastifyHttp2Platform] : [expressPlatform, fastifyPlatform];

let current: Platform = expressPlatform;

/** The platform of the `forEachPlatform` block whose tests run now. */
export function currentPlatform(): Platform {
  return current;
}

/**
 * Runs a suite once per adapter, as `describe('express' | 'fastify')`. Apps created inside use
 * that block's adapter: blocks run one after the other, so the platform is set for the block
 * when its first hook runs.
 */
export function forEachPlatform(suite: (platform: Platform) => void): void {
  for (const platform of platforms) {
    describe(platform.name, () => {
      beforeAll(() => {
        current = platform;
      });
      suite(platform);
    });
  }
}
