import { ConfigurableModuleBuilder, type ConfigurableModuleOptionsFactory } from '@nestjs/common';
import { createBatchController } from './http/batch.controller.js';
import { describeForOpenApi } from './http/openapi.installer.js';
import { BATCH_OPTIONS, DEFAULT_BATCH_PATH } from './batch.constants.js';
import { BATCH_OPENAPI, BATCH_PATH } from './batch.internal-constants.js';
import type {
  BatchModuleExtras,
  BatchModuleOptions,
  ResolvedBatchOptions,
} from './batch.options.js';

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: BATCH_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<BatchModuleOptions>({ moduleName: 'Batch' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createBatchOptions')
  .setExtras<BatchModuleExtras>(
    { path: DEFAULT_BATCH_PATH, isGlobal: false },
    (definition, extras) => {
      const controller = createBatchController(extras.path ?? DEFAULT_BATCH_PATH);
      return {
        ...definition,
        global: extras.isGlobal === true,
        controllers: [controller],
        providers: [
          ...(definition.providers ?? []),
          { provide: BATCH_PATH, useValue: extras.path ?? DEFAULT_BATCH_PATH },
          {
            provide: BATCH_OPENAPI,
            useFactory: (options: ResolvedBatchOptions) => describeForOpenApi(controller, options),
            inject: [BATCH_OPTIONS],
          },
        ],
      };
    },
  )
  .build();

/**
 * What `BatchModule.forRootAsync()` takes: `useFactory` + `inject`, `useClass` or `useExisting`,
 * `imports`, and the extras (`path`, `isGlobal`), fixed at import time.
 * @publicApi
 */
export type BatchModuleAsyncOptions = typeof ASYNC_OPTIONS_TYPE;

/**
 * A class for `forRootAsync({ useClass })`: Nest calls its `createBatchOptions()`.
 * @publicApi
 */
export type BatchOptionsFactory = ConfigurableModuleOptionsFactory<
  BatchModuleOptions,
  'createBatchOptions'
>;
