import { Injectable, type OnModuleInit } from '@nestjs/common';
import { getBatchOperation } from '../dispatch/sub-request.marker.js';
import { operationLabel } from '../validation/operation.label.js';
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
    private readonly exclusions: RouteExclusions,
  ) {}

  /** Runs after Nest registered its routes, when the prefix and versioning are final. */
  onModuleInit(): void {
    if (!this.exclusions.any) return;
    const { exclusions } = this;
    this.platform.get().refuseOperations((request, paths) => {
      const info = getBatchOperation(request);
      if (info === undefined) return undefined;
      const method = request.method ?? 'GET';
      if (!paths().some((path) => exclusions.excludes(method, path, true))) return undefined;
      return `${operationLabel(info.index, info.name)} cannot be run in a batch: ${method} ${request.url ?? ''} is excluded (exclude option)`;
    });
  }
}
