import { Injectable, type OnModuleInit } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { HttpPlatformHost } from '../platform/http-platform.host.js';
import type { RouteReader } from '../platform/http.platform.js';
import {
  loadOtelApi,
  type OtelApi,
  type OtelContext,
  type OtelSpan,
  type TraceParent,
} from './otel.api.js';
import type { DispatchRequest } from './operation.dispatcher.js';
import type { ParentContext } from './parent.context.js';
import { isBatchOperation } from './sub-request.marker.js';

/** `@opentelemetry/core`'s key for what the HTTP server span shares with the frameworks' spans. */
const RPC_METADATA = 'OpenTelemetry SDK Context Key RPC_METADATA';

/** What instrumentation-http puts in a request's context, and the frameworks' fill in. */
interface RpcMetadata {
  type: 'http';
  span: OtelSpan;
  route?: string;
}

/**
 * Makes each operation of a traced batch a span of its own, child of the batch request's span,
 * when the app has `@opentelemetry/api` (an optional peer). An operation never reaches the
 * server's `'request'` event, which instrumentation-http wraps, and it runs in the async context
 * of bootstrap (see DispatcherHost), where no span is active: without this, the frameworks'
 * instrumentations (instrumentation-express, @fastify/otel) find no span and make none.
 *
 * The span is a SERVER span, shaped as the HTTP server conventions say (README, "Tracing and
 * events", says why), and the operation's context carries RPC metadata of its own, as
 * instrumentation-http's does: the frameworks then record the operation's route there, not on
 * the batch request's span, and @fastify/otel makes its own span INTERNAL.
 */
@Injectable()
export class OperationTracer implements OnModuleInit {
  private api?: OtelApi;
  private rpcKey?: symbol;
  private routeOf?: RouteReader;

  constructor(private readonly platform: HttpPlatformHost) {}

  /**
   * Imports the API once. The routes are tracked (on Fastify, a hook every request passes) only
   * when an SDK is registered by then, as SDKs are, before the app starts: an app that merely
   * has the package pays nothing. Without it, the route comes from the frameworks'
   * instrumentations, when they run.
   */
  async onModuleInit(): Promise<void> {
    this.api = await loadOtelApi();
    if (!this.api) return;
    this.rpcKey = this.api.createContextKey(RPC_METADATA);
    const provider = this.api.trace.getTracerProvider();
    const registered =
      typeof provider.getDelegateTracer !== 'function' ||
      provider.getDelegateTracer('nestjs-batch') !== undefined;
    if (registered) this.routeOf = this.platform.get().trackRoutes(isBatchOperation);
  }

  /**
   * The span the batch's operations hang from: the HTTP server span of the batch request, else
   * the span active where the batch runs (a caller's own, for a batch run from code). Undefined
   * outside any trace, which is always the case without an SDK: the operations then cost
   * nothing more.
   */
  parent(): TraceParent | undefined {
    const { api, rpcKey } = this;
    if (!api || !rpcKey) return undefined;
    const active = api.context.active();
    const rpc = active.getValue(rpcKey) as RpcMetadata | undefined;
    const span = rpc?.span ?? api.trace.getSpan(active);
    if (!span) return undefined;
    return { context: api.trace.setSpan(active.deleteValue(rpcKey), span) };
  }

  /** Starts the span of one operation; its traceparent replaces any the operation inherited. */
  start(request: DispatchRequest, parent: ParentContext, trace: TraceParent): OperationSpan {
    const api = this.api as OtelApi;
    const { method, url, info } = request;
    const query = url.indexOf('?');
    const attributes: Record<string, string | number> = {
      'http.request.method': method,
      'url.path': query < 0 ? url : url.slice(0, query),
      'url.scheme': parent.connection.encrypted === true ? 'https' : 'http',
      'network.protocol.version': '1.1',
      'client.address': parent.connection.remoteAddress,
      'nestjs_batch.operation.index': info.index,
    };
    if (query >= 0) attributes['url.query'] = url.slice(query + 1);
    if (info.name !== undefined) attributes['nestjs_batch.operation.name'] = info.name;
    const span = api.trace
      .getTracer('nestjs-batch')
      .startSpan(method, { kind: api.SpanKind.SERVER, attributes }, trace.context);
    const rpc: RpcMetadata = { type: 'http', span };
    const context = api.trace.setSpan(trace.context, span).setValue(this.rpcKey as symbol, rpc);
    // What the app reads from `traceparent` (a logger, an outgoing call) is then this operation.
    delete request.headers.traceparent;
    delete request.headers.tracestate;
    api.propagation.inject(context, request.headers);
    return new OperationSpan(api, span, context, rpc, method, this.routeOf);
  }
}

/** One operation's span, from dispatch to the app's answer. */
export class OperationSpan {
  /** An app may still answer an operation it was abandoned by: the span ends once. */
  private ended = false;

  constructor(
    private readonly api: OtelApi,
    private readonly span: OtelSpan,
    private readonly context: OtelContext,
    private readonly rpc: RpcMetadata,
    private readonly method: string,
    private readonly routeOf: RouteReader | undefined,
  ) {}

  /** Runs the app in the operation's context. */
  run(fn: () => void): void {
    this.api.context.with(this.context, fn);
  }

  /** The app answered: named after its route, as HTTP server spans are; an error on a 5xx. */
  finish(request: IncomingMessage, statusCode: number): void {
    if (this.ended) return;
    this.ended = true;
    const route = this.routeOf?.(request) ?? this.rpc.route;
    const { span } = this;
    if (route !== undefined) {
      span.setAttribute('http.route', route);
      span.updateName(`${this.method} ${route}`);
    }
    span.setAttribute('http.response.status_code', statusCode);
    if (statusCode >= 500) {
      span.setAttribute('error.type', String(statusCode));
      span.setStatus({ code: this.api.SpanStatusCode.ERROR });
    }
    span.end();
  }

  /** Abandoned before the app answered: operation timeout, the batch's deadline, client gone. */
  abandon(): void {
    if (this.ended) return;
    this.ended = true;
    this.span.setAttribute('error.type', 'nestjs_batch.abandoned');
    this.span.setStatus({
      code: this.api.SpanStatusCode.ERROR,
      message: 'abandoned before the app answered',
    });
    this.span.end();
  }
}
