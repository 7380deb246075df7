import { type DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD, DiscoveryModule } from '@nestjs/core';
import { BATCH_OPTIONS } from './batch.constants.js';
import { BATCH_MODULE } from './batch.internal-constants.js';
import {
  BATCH_MODULE_OPTIONS,
  ConfigurableModuleClass,
  OPTIONS_TYPE,
} from './batch.module-definition.js';
import { resolveBatchOptions, type BatchModuleOptions } from './batch.options.js';
import { DispatcherHost } from './dispatch/dispatcher.host.js';
import { OperationTracer } from './dispatch/operation.tracer.js';
import { BodyReaderInstaller } from './http/body-reader.installer.js';
import { BatchEvents } from './events/batch.events.js';
import { BatchExecutor } from './schedule/batch.executor.js';
import { OperationQueue } from './schedule/operation.queue.js';
import { HttpPlatformHost } from './platform/http-platform.host.js';
import { RouteExclusionInstaller } from './policy/route-exclusion.installer.js';
import { RouteExclusions } from './policy/route-exclusions.provider.js';
import { SkipBatchGuard } from './policy/skip-batch.guard.js';

/**
 * Adds `POST /batch` (see `path`) to the app: one request carrying many operations, each run
 * through the app's own HTTP pipeline. Import with `forRoot` or `forRootAsync`.
 * @publicApi
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    {
      provide: BATCH_OPTIONS,
      useFactory: (options: BatchModuleOptions) => resolveBatchOptions(options),
      inject: [BATCH_MODULE_OPTIONS],
    },
    HttpPlatformHost,
    RouteExclusions,
    DispatcherHost,
    OperationTracer,
    BatchExecutor,
    BatchEvents,
    OperationQueue,
    BodyReaderInstaller,
    RouteExclusionInstaller,
    // A factory, not useValue: the class is not defined yet while its decorator runs.
    { provide: BATCH_MODULE, useFactory: () => BatchModule },
    { provide: APP_GUARD, useClass: SkipBatchGuard },
  ],
  exports: [BatchExecutor, BATCH_OPTIONS],
})
export class BatchModule extends ConfigurableModuleClass {
  /** Every option has a default, so `BatchModule.forRoot()` alone is a working setup. */
  static override forRoot(options: typeof OPTIONS_TYPE = {}): DynamicModule {
    return super.forRoot(options);
  }
}
