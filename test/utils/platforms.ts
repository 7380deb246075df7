import type { AbstractHttpAdapter } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';

/** An HTTP adapter the suites run against, made fresh for each app. */
export interface Platform {
  readonly name: 'express' | 'fastify';
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

/** The part of a Fastify instance the hook tests use. */
export interface FastifyHooks {
  addHook(name: string, hook: (...args: never[]) => void): unknown;
}

export const platforms: readonly Platform[] = [expressPlatform, fastifyPlatform];

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
