import { Inject, Injectable, NotImplementedException } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { AsyncResource } from 'node:async_hooks';
import { BATCH_OPTIONS } from '../batch.internal-constants.js';
import type { ResolvedBatchOptions } from '../batch.options.js';
import { ExpressDispatcher, type RequestListener } from './express.dispatcher.js';
import type { OperationDispatcher } from './operation.dispatcher.js';

/**
 * Picks the dispatcher for the app's HTTP adapter. The adapter is read on first use, not at
 * construction: in a testing module it does not exist yet while providers are built.
 */
@Injectable()
export class DispatcherHost {
  private dispatcher?: OperationDispatcher;

  /**
   * Bound here, at bootstrap, outside any request: operations then start in a fresh async
   * context, so AsyncLocalStorage-based request scopes (nestjs-cls and the like) give each
   * operation its own store instead of inheriting the batch request's.
   */
  private readonly inBootstrapContext = AsyncResource.bind(<T>(fn: () => T): T => fn());

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(BATCH_OPTIONS) private readonly options: ResolvedBatchOptions,
  ) {}

  get(): OperationDispatcher {
    this.dispatcher ??= this.create();
    return this.dispatcher;
  }

  private create(): OperationDispatcher {
    const adapter = this.adapterHost.httpAdapter as typeof this.adapterHost.httpAdapter | undefined;
    if (!adapter) {
      throw new Error('nestjs-batch: the app has no HTTP adapter yet; call app.init() first');
    }
    const type = adapter.getType();
    if (type === 'express') {
      return new ExpressDispatcher(
        adapter.getInstance<RequestListener>(),
        this.options.maxResponseBytes,
        this.inBootstrapContext,
      );
    }
    throw new NotImplementedException(`nestjs-batch cannot dispatch into the "${type}" adapter`);
  }
}
