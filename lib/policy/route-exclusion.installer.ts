import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ApplicationConfig, ModulesContainer } from '@nestjs/core';
import { getBatchOperation } from '../dispatch/sub-request.marker.js';
import { uriVersioningOf } from '../platform/framework.internals.js';
import { HttpPlatformHost } from '../platform/http-platform.host.js';
import { RouteExclusions } from './route-exclusions.provider.js';

/**
 * The second check of the `exclude` option, inside the app: the executor refuses an operation
 * whose url matches an exclusion before dispatching it, but only the router knows every path it
 * folds into a route (Fastify's `ignoreDuplicateSlashes`, `useSemicolonDelimiter`, ...) and
 * only the app knows its URI versions. This check sees both, and still answers before any of the
 * app's middleware runs.
 */
@Injectable()
export class RouteExclusionInstaller implements OnModuleInit {
  constructor(
    private readonly platform: HttpPlatformHost,
    private readonly config: ApplicationConfig,
    private readonly modules: ModulesContainer,
    private readonly exclusions: RouteExclusions,
  ) {}

  /** Runs after Nest registered its routes, when the prefix and versioning are final. */
  onModuleInit(): void {
    if (!this.exclusions.any) return;
    const { excludes } = this.exclusions;
    const versioning = uriVersioningOf(this.config, this.modules);
    this.platform.get().refuseOperations((request, paths) => {
      const info = getBatchOperation(request);
      if (info === undefined) return undefined;
      const method = request.method ?? 'GET';
      if (!paths().some((path) => excludes(method, path, versioning))) return undefined;
      const label =
        info.name === undefined
          ? `operation ${info.index}`
          : `operation ${info.index} ("${info.name}")`;
      return `${label} cannot be run in a batch: ${method} ${request.url ?? ''} is excluded (exclude option)`;
    });
  }
}
