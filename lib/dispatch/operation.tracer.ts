import { Injectable, type OnModuleInit } from '@nestjs/common';
import type { EventEmitter } from 'node:events';
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
import { isBatchOperation, type BatchOperationInfo } from './sub-request.marker.js';

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
 * when the app has `@opentelemetry/api` (an optional peer). An operation enters by the server's
 * `'request'` event: where instrumentation-http wraps it, the span is the one it makes there, as
 * for a direct request, once the operation's headers name the batch's span as its parent. Where
 * nothing wraps it, the operation runs in the async context of bootstrap (see DispatcherHost),
 * where no span is active: the library then makes the span, or the frameworks'
 * instrumentations (instrumentation-express, @fastify/otel) would find none and make none.
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

  /**
   * Starts the span of one operation; its traceparent replaces any the operation inherited.
   * Where instrumentation-http wraps the server's `'request'` event, which the operation enters
   * by, that span is instrumentation-http's own, as for a request sent directly (its hooks and
   * metrics included): the operation's headers then name the batch's span as its parent.
   */
  start(
    request: DispatchRequest,
    parent: ParentContext,
    trace: TraceParent,
    server?: EventEmitter,
  ): OperationTrace {
    const api = this.api as OtelApi;
    if (server && wrapsRequests(server)) {
      injectTrace(api, trace.context, request.headers);
      return new InstrumentedOperation(api, this.rpcKey as symbol, server, request.info, trace);
    }
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
    // The operation's baggage is its own header's, as instrumentation-http would read it, not
    // the batch request's.
    const { baggage } = request.headers;
    let base = api.propagation.deleteBaggage(trace.context);
    if (baggage !== undefined) base = api.propagation.extract(base, { baggage });
    const context = api.trace.setSpan(base, span).setValue(this.rpcKey as symbol, rpc);
    // What the app reads from `traceparent` (a logger, an outgoing call) is then this operation.
    injectTrace(api, context, request.headers);
    return new OperationSpan(api, span, context, rpc, method, this.routeOf);
  }
}

/** What the dispatcher does with an operation's trace: run the app in it, and end it. */
export interface OperationTrace {
  /** Runs the app (the server's `'request'` event) for the operation. */
  run(fn: () => void): void;
  /** The app answered. */
  finish(request: IncomingMessage, statusCode: number): void;
  /** Abandoned before the app answered: operation timeout, the batch's deadline, client gone. */
  abandon(): void;
}

/**
 * Puts `context`'s trace (W3C `traceparent` and `tracestate`, or what other propagators write
 * for it) in place of the inherited one; baggage stays the operation's own, as it sent it or
 * inherited it (`inheritHeaders`), as a direct request's would.
 */
function injectTrace(api: OtelApi, context: OtelContext, headers: Record<string, string>): void {
  delete headers.traceparent;
  delete headers.tracestate;
  const written: Record<string, string> = {};
  api.propagation.inject(context, written);
  for (const name in written) {
    if (name !== 'baggage') headers[name] = written[name] as string;
  }
}

/**
 * Whether instrumentation-http wraps this server's `emit` (shimmer marks what it wraps), so that
 * each request the server emits gets its span there.
 */
function wrapsRequests(server: EventEmitter): boolean {
  return (server.emit as { __wrapped?: unknown }).__wrapped === true;
}

/**
 * An operation whose span instrumentation-http makes, as it makes a direct request's: the span
 * is found in the context of the `'request'` event, where the library names the operation on it.
 */
class InstrumentedOperation implements OperationTrace {
  private span?: OtelSpan;
  private ended = false;

  constructor(
    private readonly api: OtelApi,
    private readonly rpcKey: symbol,
    private readonly server: EventEmitter,
    private readonly info: BatchOperationInfo,
    private readonly trace: TraceParent,
  ) {}

  run(fn: () => void): void {
    // The first listener of this one emit, run in the span instrumentation-http started for it.
    this.server.prependOnceListener('request', () => {
      const rpc = this.api.context.active().getValue(this.rpcKey) as RpcMetadata | undefined;
      this.span = rpc?.span;
      this.span?.setAttribute('nestjs_batch.operation.index', this.info.index);
      if (this.info.name !== undefined) {
        this.span?.setAttribute('nestjs_batch.operation.name', this.info.name);
      }
    });
    this.api.context.with(this.trace.context, fn);
  }

  finish(): void {
    // instrumentation-http ends its span as the response closes, with its status and route.
    this.ended = true;
  }

  abandon(): void {
    if (this.ended) return;
    this.ended = true;
    this.span?.setAttribute('error.type', 'nestjs_batch.abandoned');
    this.span?.setStatus({
      code: this.api.SpanStatusCode.ERROR,
      message: 'abandoned before the app answered',
    });
  }
}

/** One operation's span, from dispatch to the app's answer. */
export class OperationSpan implements OperationTrace {
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
