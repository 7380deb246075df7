import { VersioningType } from '@nestjs/common';
import type { ApplicationConfig, ModulesContainer } from '@nestjs/core';
import { OutgoingMessage } from 'node:http';

/*
 * Every use of Nest, Express and Node internals the library makes, in one place: metadata keys,
 * adapter fields, router state and symbols they use but do not export as API. Each is read as the
 * framework itself reads it. Checked against Nest 11 and 12, Express 4 and 5 and Node 20 to 24:
 * look here first when a new major of either comes out.
 */

/**
 * A symbol Node keeps on every outgoing message, found by its description on a fresh one (Node
 * exports none): `kNeedDrain` (a write returned false), `kOutHeaders` (the headers set so far).
 * Undefined on a Node without it; each caller says what it does then.
 */
export function outgoingMessageSymbol(description: string): symbol | undefined {
  return Object.getOwnPropertySymbols(new OutgoingMessage()).find(
    (symbol) => symbol.description === description,
  );
}

/**
 * Where RouterModule keeps a module's path (`MODULE_PATH` of @nestjs/common, exported from
 * '/internal' in Nest 12 and '/constants' before): read as Nest's RoutesResolver reads it.
 */
const MODULE_PATH = '__module_path__';

/**
 * The path RouterModule mounts a module at, if any. Nest 10+ keys it per application
 * (`MODULE_PATH + applicationId`, so two apps in one process can mount a module apart); the
 * plain key is what Nest wrote before, and what a module mounted by hand may still carry.
 */
export function routerModulePathOf(modules: ModulesContainer, module: object): string | undefined {
  const path: unknown =
    Reflect.getMetadata(MODULE_PATH + modules.applicationId, module) ??
    Reflect.getMetadata(MODULE_PATH, module);
  return typeof path === 'string' ? path : undefined;
}

/** Where `@Version()` and `@Controller({ version })` keep a version (`VERSION_METADATA`). */
const VERSION_METADATA = '__version__';

/** Where the app puts URI version segments, so that an exclusion can be written without one. */
export interface UriVersioning {
  /** The global prefix as a path (`/api`), or `''`. */
  readonly globalPrefix: string;
  /** Every version segment a route may carry (`v1`, `v2`), in lower case. */
  readonly segments: ReadonlySet<string>;
}

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

/** The parts of an Express app's router that {@link moveLastMiddlewareFirst} touches. */
export interface ExpressRouterHolder {
  /** Express 5. */
  router?: { stack?: unknown[] };
  /** Express 4. */
  _router?: { stack?: unknown[] };
}

/**
 * Moves the middleware just added with `app.use()` to the front of the app's router stack.
 * Express has no API to run something before middleware already registered (Nest registers its
 * body parsers before any module is initialised), so the layer is moved in `stack`, the array
 * both Express 4 (`app._router`) and 5 (`app.router`) route through in order.
 */
export function moveLastMiddlewareFirst(app: ExpressRouterHolder): void {
  const stack = (app.router ?? app._router)?.stack;
  if (stack) stack.unshift(stack.pop());
}
