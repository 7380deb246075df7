import { ConfigurableModuleBuilder, type ConfigurableModuleOptionsFactory } from '@nestjs/common';
import { createBatchController } from './http/batch.controller.js';
import { describeForOpenApi } from './http/openapi.installer.js';
import { BATCH_OPTIONS } from './batch.constants.js';
import { BATCH_OPENAPI, BATCH_PATH } from './batch.internal-constants.js';
import {
  BATCH_MODULE_EXTRAS_DEFAULTS,
  type BatchModuleExtras,
  type BatchModuleOptions,
  type ResolvedBatchOptions,
} from './batch.options.js';

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: BATCH_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<BatchModuleOptions>({ moduleName: 'Batch' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createBatchOptions')
  .setExtras<BatchModuleExtras>(BATCH_MODULE_EXTRAS_DEFAULTS, (definition, extras) => {
    const controller = createBatchController(extras.path ?? BATCH_MODULE_EXTRAS_DEFAULTS.path);
    return {
      ...definition,
      global: extras.isGlobal === true,
      controllers: [controller],
      providers: [
        ...(definition.providers ?? []),
        { provide: BATCH_PATH, useValue: extras.path ?? BATCH_MODULE_EXTRAS_DEFAULTS.path },
        {
          provide: BATCH_OPENAPI,
          useFactory: (options: ResolvedBatchOptions) => describeForOpenApi(controller, options),
          inject: [BATCH_OPTIONS],
        },
      ],
    };
  })
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
