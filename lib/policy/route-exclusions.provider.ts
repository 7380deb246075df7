import { Inject, Injectable } from '@nestjs/common';
import { BATCH_OPTIONS } from '../batch.constants.js';
import type { ResolvedBatchOptions } from '../batch.options.js';
import { compileExclusions, type ExclusionTest } from './route.exclusions.js';

/**
 * The `exclude` option compiled once, for both checks that use it: the executor's before
 * dispatch and the one inside the app (RouteExclusionInstaller). Built at bootstrap, so a pattern
 * path-to-regexp cannot read stops the app there, naming the entry.
 */
@Injectable()
export class RouteExclusions {
  /** True when an operation with this method and path may not run. */
  readonly excludes: ExclusionTest;
  /** False when `exclude` is empty: nothing to check. */
  readonly any: boolean;

  constructor(@Inject(BATCH_OPTIONS) options: ResolvedBatchOptions) {
    this.excludes = compileExclusions(options.exclude);
    this.any = options.exclude.length > 0;
  }
}
