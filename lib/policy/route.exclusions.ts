import { RequestMethod } from '@nestjs/common';
import { match } from 'path-to-regexp';
import type { BatchExcludedRoute } from '../interfaces/batch-excluded-route.interface.js';
import type { BatchMethod } from '../interfaces/batch-operation.interface.js';
import type { UriVersioning } from '../platform/framework.internals.js';

/**
 * True when an operation with this method and url may not run. With the app's URI versioning, a
 * path is also tested without its version segment, so an exclusion written without a version
 * covers the route in every version.
 */
export type ExclusionTest = (method: string, url: string, versioning?: UriVersioning) => boolean;

/**
 * Compiles the `exclude` option once.
 * @throws TypeError naming the entry, for a pattern path-to-regexp cannot read
 */
export function compileExclusions(routes: readonly BatchExcludedRoute[]): ExclusionTest {
  const compiled = routes.map((route, index) => {
    const { path, method } = typeof route === 'string' ? { path: route, method: undefined } : route;
    let matches;
    try {
      matches = match(path, { sensitive: false, trailing: true, decode: false });
    } catch (error) {
      throw new TypeError(
        `BatchModule: exclude[${index}] "${path}" is not a route pattern: ${(error as Error).message}`,
        { cause: error },
      );
    }
    const methods = method === undefined ? [] : [method].flat().map(methodName);
    const every = methods.length === 0 || methods.includes('ALL');
    return { matches, methods: new Set(methods), every };
  });
  if (compiled.length === 0) return () => false;
  return (method, url, versioning) => {
    const path = normalisePath(url);
    const unversioned = versioning && withoutVersion(path, versioning);
    return compiled.some(
      (route) =>
        (route.every ||
          route.methods.has(method) ||
          // Express and Fastify answer HEAD with the GET handler, headers and all.
          (method === 'HEAD' && route.methods.has('GET'))) &&
        (route.matches(path) !== false ||
          (unversioned !== undefined && route.matches(unversioned) !== false)),
    );
  };
}

/**
 * The path without its URI version segment, where Nest puts one: first, or right after the
 * global prefix (a route excluded from the prefix has it first). Only a segment that is one of
 * the app's versions counts, so `/api/vadmin` stays whole.
 */
function withoutVersion(
  path: string,
  { globalPrefix, segments }: UriVersioning,
): string | undefined {
  const lower = path.toLowerCase();
  const prefix = globalPrefix.toLowerCase();
  for (const at of prefix && lower.startsWith(`${prefix}/`) ? [prefix.length, 0] : [0]) {
    const end = lower.indexOf('/', at + 1);
    const segment = lower.slice(at + 1, end === -1 ? undefined : end);
    if (segments.has(segment))
      return path.slice(0, at) + (end === -1 ? '' : path.slice(end)) || '/';
  }
  return undefined;
}

function methodName(method: BatchMethod | RequestMethod): string {
  return typeof method === 'number' ? RequestMethod[method] : method.toUpperCase();
}

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/**
 * The path of a url with unreserved characters percent-decoded (RFC 3986 §6.2.2.2), so `/%61dmin`
 * cannot slip past an exclusion of `/admin`; other escapes stay as they are, as routers see them.
 */
function normalisePath(url: string): string {
  const path = url.split('?', 1)[0] ?? '';
  return path.replace(/%([0-9A-Fa-f]{2})/g, (escape, hex: string) => {
    const char = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(char) ? char : escape.toUpperCase();
  });
}
