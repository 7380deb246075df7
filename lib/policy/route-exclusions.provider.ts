import { Inject, Injectable } from '@nestjs/common';
import { ApplicationConfig, ModulesContainer } from '@nestjs/core';
import { BATCH_OPTIONS } from '../batch.constants.js';
import type { ResolvedBatchOptions } from '../batch.options.js';
import { uriVersioningOf, type UriVersioning } from '../platform/framework.internals.js';
import { compileExclusions, type ExclusionTest } from './route.exclusions.js';

/**
 * The `exclude` option compiled once, for the three checks that use it: the executor's before
 * dispatch, the one in front of the app's middleware (RouteExclusionInstaller), and the one after
 * routing (SkipBatchGuard), which sees the method and url middleware may have changed. Built at
 * bootstrap, so a pattern path-to-regexp cannot read stops the app there, naming the entry.
 */
@Injectable()
export class RouteExclusions {
  /** False when `exclude` is empty: nothing to check. */
  readonly any: boolean;
  private readonly test: ExclusionTest;
  private versioning?: { readonly value: UriVersioning | undefined };

  constructor(
    @Inject(BATCH_OPTIONS) options: ResolvedBatchOptions,
    private readonly config: ApplicationConfig,
    private readonly modules: ModulesContainer,
  ) {
    this.test = compileExclusions(options.exclude);
    this.any = options.exclude.length > 0;
  }

  /**
   * True when an operation with this method and path may not run. `withVersions`: also as the
   * app's URI versions spell it (read on first use, once every route is registered), so an
   * exclusion written without a version covers the route in every version.
   */
  excludes(method: string, path: string, withVersions = false): boolean {
    if (!this.any) return false;
    if (!withVersions) return this.test(method, path);
    this.versioning ??= { value: uriVersioningOf(this.config, this.modules) };
    return this.test(method, path, this.versioning.value);
  }
}
