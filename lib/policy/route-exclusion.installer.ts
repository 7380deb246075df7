import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { ApplicationConfig, HttpAdapterHost, ModulesContainer } from '@nestjs/core';
import { BATCH_OPTIONS } from '../batch.internal-constants.js';
import type { ResolvedBatchOptions } from '../batch.options.js';
import { getBatchOperation } from '../dispatch/sub-request.marker.js';
import { uriVersioningOf } from '../nest.internals.js';
import { httpPlatformOf } from '../platform/platform.factory.js';
import { compileExclusions } from './route.exclusions.js';

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
    private readonly adapterHost: HttpAdapterHost,
    private readonly config: ApplicationConfig,
    private readonly modules: ModulesContainer,
    @Inject(BATCH_OPTIONS) private readonly options: ResolvedBatchOptions,
  ) {}

  /** Runs after Nest registered its routes, when the prefix and versioning are final. */
  onModuleInit(): void {
    if (this.options.exclude.length === 0) return;
    const excluded = compileExclusions(
      this.options.exclude,
      uriVersioningOf(this.config, this.modules),
    );
    httpPlatformOf(this.adapterHost).refuseOperations((request, paths) => {
      const method = request.method ?? 'GET';
      if (!paths.some((path) => excluded(method, path))) return undefined;
      const info = getBatchOperation(request);
      const label =
        info?.name === undefined
          ? `operation ${info?.index ?? '?'}`
          : `operation ${info.index} ("${info.name}")`;
      return `${label} cannot be run in a batch: ${method} ${request.url ?? ''} is excluded (exclude option)`;
    });
  }
}
