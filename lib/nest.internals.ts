import { VersioningType } from '@nestjs/common';
import type { ApplicationConfig, ModulesContainer } from '@nestjs/core';
import type { UriVersioning } from './policy/route.exclusions.js';

/*
 * Every read of Nest internals the library makes, in one place: metadata keys and adapter fields
 * Nest uses but does not export as API. Each is read as Nest itself reads it; check them here
 * when a new Nest major comes out.
 */

/**
 * Where RouterModule keeps a module's path (`MODULE_PATH` of @nestjs/common, exported from
 * '/internal' in Nest 12 and '/constants' before): read as Nest's RoutesResolver reads it.
 */
export const MODULE_PATH = '__module_path__';

/** Where `@Version()` and `@Controller({ version })` keep a version (`VERSION_METADATA`). */
const VERSION_METADATA = '__version__';

/**
 * The URI version segments the app's routes carry, or undefined without URI versioning: the
 * default version and every version a controller or handler names, with the versioning prefix
 * (`v` unless set), as Nest's RoutePathFactory builds them.
 */
export function uriVersioningOf(
  config: ApplicationConfig,
  modules: ModulesContainer,
): UriVersioning | undefined {
  const versioning = config.getVersioning();
  if (versioning?.type !== VersioningType.URI) return undefined;
  const prefix = versioning.prefix === false ? '' : (versioning.prefix ?? 'v');
  const segments = new Set<string>();
  const add = (version: unknown): void => {
    // VERSION_NEUTRAL is a symbol: a neutral route has no segment.
    for (const each of [version].flat()) {
      if (typeof each === 'string') segments.add(`${prefix}${each}`.toLowerCase());
    }
  };
  add(versioning.defaultVersion);
  for (const module of modules.values()) {
    for (const { metatype } of module.controllers.values()) {
      if (typeof metatype !== 'function') continue;
      add(Reflect.getMetadata(VERSION_METADATA, metatype));
      for (let proto: unknown = metatype.prototype; proto && proto !== Object.prototype;) {
        for (const name of Object.getOwnPropertyNames(proto)) {
          const handler = Object.getOwnPropertyDescriptor(proto, name)?.value as unknown;
          if (typeof handler === 'function') add(Reflect.getMetadata(VERSION_METADATA, handler));
        }
        proto = Object.getPrototypeOf(proto);
      }
    }
  }
  const globalPrefix = `/${config.getGlobalPrefix()}`.replace(/\/+/g, '/').replace(/(.)\/$/, '$1');
  return { globalPrefix: globalPrefix === '/' ? '' : globalPrefix, segments };
}

/** A request hook in the shape Nest adapters run it: `done()` lets the request go on. */
export type RequestHook = (request: never, reply: never, done: (error?: Error) => void) => unknown;

/**
 * The request hook already set with `setOnRequestHook()` (the adapters keep one, in a field
 * of that name), so a hook the library sets can run it after its own instead of replacing it.
 */
export function onRequestHookOf(adapter: object): RequestHook | undefined {
  const hook = (adapter as { onRequestHook?: unknown }).onRequestHook;
  return typeof hook === 'function' ? (hook as RequestHook) : undefined;
}
