import { Inject, Injectable } from '@nestjs/common';
import { AsyncResource } from 'node:async_hooks';
import { BATCH_OPTIONS } from '../batch.constants.js';
import type { ResolvedBatchOptions } from '../batch.options.js';
import { HttpPlatformHost } from '../platform/http-platform.host.js';
import { InMemoryDispatcher } from './in-memory.dispatcher.js';
import type { OperationDispatcher } from './operation.dispatcher.js';
import { OperationTracer } from './operation.tracer.js';
import type { TraceParent } from './otel.api.js';
import { runAsSubRequest } from './sub-request.marker.js';

/** Makes the dispatcher for the app's HTTP adapter once, on first use, when the adapter exists. */
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
    private readonly platform: HttpPlatformHost,
    @Inject(BATCH_OPTIONS) private readonly options: ResolvedBatchOptions,
    private readonly tracer: OperationTracer,
  ) {}

  /** The span a batch starting now hangs its operations from; undefined outside a trace. */
  traceParent(): TraceParent | undefined {
    return this.tracer.parent();
  }

  get(): OperationDispatcher {
    const { inBootstrapContext } = this;
    this.dispatcher ??= new InMemoryDispatcher(
      this.platform.get().listener,
      this.options.maxResponseBytes,
      this.options.operationContext
        ? (info, run, runIn = inBootstrapContext) => runIn(() => runAsSubRequest(info, run))
        : (_info, run, runIn = inBootstrapContext) => runIn(run),
      this.tracer,
      () => this.platform.server(),
    );
    return this.dispatcher;
  }
}
