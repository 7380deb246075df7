import { channel } from 'node:diagnostics_channel';
import type { EventEmitter } from 'node:events';
import { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type {
  AbandonDispatch,
  DispatchRequest,
  DispatchResponse,
  OperationDispatcher,
} from './operation.dispatcher.js';
import type { OperationSocket } from './operation.socket.js';
import { operationSocketFor } from './operation.tls-socket.js';
import { SettleOnce } from './operation.task.js';
import type { OperationTracer } from './operation.tracer.js';
import type { ParentContext } from './parent.context.js';
import { ResponseAbortedError } from './response.aborted.js';
import { captureResponse, isBodiless, sentHeader } from './response.capture.js';
import { markSubRequest, type BatchOperationInfo } from './sub-request.marker.js';
import type { RequestListener } from '../platform/http.platform.js';

/** Node's channels for a server's requests, which an operation is announced on as one. */
const requestStart = channel('http.server.request.start');
const responseFinish = channel('http.server.response.finish');

/** Runs the app for one operation, in the async context the operation gets. */
export type EnterApp = (
  info: BatchOperationInfo,
  run: () => void,
  runIn?: <T>(fn: () => T) => T,
) => void;

/**
 * Hands each operation to the app's server as a real `IncomingMessage`/`ServerResponse` pair on
 * an in-memory socket, through the server's `'request'` event, so every hook, middleware, guard,
 * interceptor, pipe and filter runs as for a request of its own, on Express and Fastify alike.
 * light-my-request is not used: on Express it re-points the prototypes of Express's shared
 * request and response objects and corrupts later real traffic; on Fastify it is slower than
 * this pair (see the benchmark).
 */
export class InMemoryDispatcher implements OperationDispatcher {
  constructor(
    private readonly app: RequestListener,
    private readonly maxResponseBytes: number,
    private readonly enter: EnterApp,
    private readonly tracer?: OperationTracer,
    private readonly appServer: () => EventEmitter | undefined = () => undefined,
  ) {}

  dispatch(
    request: DispatchRequest,
    parent: ParentContext,
    done: (response: DispatchResponse) => void,
    fail: (error: unknown) => void,
  ): AbandonDispatch {
    // The server the batch came in on (else the app's, for a batch run from code): the operation
    // arrives there as a request does, through its 'request' event, so whatever wraps that event
    // (instrumentation-http, Sentry's per-request scope, dd-trace's request span, any listener)
    // sees it as one. Handed to the app's listener directly, it ran in no request's scope at all.
    const server = parent.connection.server ?? this.appServer();
    // Before the request is made: the span's traceparent goes into its headers.
    const span = parent.trace && this.tracer?.start(request, parent, parent.trace, server);
    const socket = operationSocketFor(parent.connection);
    const req = createRequest(socket, request);
    // The method must be on the request before the response is made (HEAD, 204, 304).
    const res = new ServerResponse(req);
    res.assignSocket(socket as unknown as Socket);
    const once = new SettleOnce();
    const { headersSent } = request;
    // Past the cap the entry is a 502 whatever comes next: it is answered now, and the app is
    // told the request was aborted, as by a client that read that much and left. A stream that
    // does not end soon (server-sent events, a long download) would otherwise run, and hold the
    // batch, until a timeout. A turn later: a response ending in the same write finishes first.
    const cutAtCap = (): void => {
      if (capture.pastCap() && once.end()) complete();
    };
    const capture = captureResponse(
      res,
      this.maxResponseBytes,
      headersSent &&
        (() => {
          if (!once.ended) headersSent(capture.status(), capture.headers());
        }),
      cutAtCap,
    );
    /** Once, however the operation ends: answered, failed to start, or abandoned. */
    const end = (): void => {
      capture.stop();
      // Abandoned (timeout, client gone): the app sees the request aborted, as on a real drop.
      if (!res.writableFinished) {
        span?.abandon();
        req.destroy(connectionReset());
      } else {
        drainRequest(req);
      }
      // Lets 'close' listeners run, as after a real response. On the next tick: writes the
      // response made are acknowledged on this tick, and destroying first would fail each one
      // with an ERR_STREAM_DESTROYED error (a stack trace per write, measured at ~5% of CPU).
      process.nextTick(() => socket.destroy());
    };
    const complete = (): void => {
      span?.finish(req, capture.status());
      const response = asDeclared(res, capture.result());
      end();
      if (response instanceof ResponseAbortedError) fail(response);
      else done(response);
    };
    res.once('finish', () => {
      if (server && responseFinish.hasSubscribers) {
        responseFinish.publish({ request: req, response: res, socket, server });
      }
      if (once.end()) complete();
    });
    // 'close' before 'finish': the app destroyed the response or its connection. A direct
    // client would see the connection drop, so the operation ends now, not at a timeout;
    // unless no body was due (HEAD, 204, 304) and the headers went out: that answer is whole.
    res.once('close', () => {
      if (!once.end()) return;
      if (isBodiless(res, capture.status()) && sentHeader(res)) {
        complete();
        return;
      }
      // Only headers that went out reach a client: `writeHead` alone buffers them.
      const error = sentHeader(res)
        ? new ResponseAbortedError(capture.status(), capture.headers())
        : new ResponseAbortedError(undefined);
      end();
      fail(error);
    });
    try {
      const app: () => void = server
        ? () => {
            // Node announces each request on this channel before its 'request' event; Sentry
            // wraps a server's `emit` when the channel first names it (a batch run from code
            // may come before any request did).
            if (requestStart.hasSubscribers) {
              requestStart.publish({ request: req, response: res, socket, server });
            }
            server.emit('request', req, res);
          }
        : () => this.app(req, res);
      this.enter(request.info, span ? () => span.run(app) : app, request.runIn);
    } catch (error) {
      if (once.end()) {
        end();
        fail(error);
      }
    }
    return () => {
      if (!once.end()) return undefined;
      // Abandoned (a timeout) after its headers went out: a client has read them.
      const sent =
        sentHeader(res) && !res.writableFinished
          ? { statusCode: capture.status(), headers: capture.headers() }
          : undefined;
      end();
      return sent;
    };
  }
}

/**
 * The answer as a client reads it by its Content-Length: the declared bytes of a longer body
 * (fetch and curl stop there; the rest spoils the connection), and a shorter one never ends
 * (the client waits, then sees the connection close: response-aborted). A body sent chunked
 * (without a Content-Length), none due, or past the capture's cap before the declared length is
 * taken as it is. A Content-Length no client can read (`+12`, `0x10`, `-1`, two differing
 * values), or one beside `Transfer-Encoding: chunked`, fails the response at its headers, as
 * fetch() and Node's client fail it: nothing of it reaches them.
 */
function asDeclared(
  res: ServerResponse,
  response: DispatchResponse,
): DispatchResponse | ResponseAbortedError {
  const header = response.headers['content-length'];
  const declared = declaredLength(header);
  if (Number.isNaN(declared)) {
    return new ResponseAbortedError(
      undefined,
      undefined,
      `the response's Content-Length (${JSON.stringify(header)}) is not a length a client can read`,
    );
  }
  if (declared === undefined) return response;
  // Framed twice: RFC 9112 forbids sending both, and lets a recipient treat it as an error (a
  // sign of response smuggling); Node's client and fetch() refuse it at the headers. Browsers
  // and curl read it by its chunks: the stricter reading holds, and names the app's mistake.
  if (res.chunkedEncoding) {
    return new ResponseAbortedError(
      undefined,
      undefined,
      `the response carries both a Content-Length (${String(header)}) and Transfer-Encoding: chunked, which a server must not send together (RFC 9112): Node's client and fetch() refuse it`,
    );
  }
  if (isBodiless(res, response.statusCode)) return response;
  const sent = response.body.length;
  if (sent > declared) {
    const { statusCode, headers, headerBytes } = response;
    const body = response.body.subarray(0, declared);
    return headerBytes === undefined
      ? { statusCode, headers, body, truncated: false }
      : { statusCode, headers, headerBytes, body, truncated: false };
  }
  if (sent < declared && !response.truncated) {
    return new ResponseAbortedError(
      response.statusCode,
      response.headers,
      `the response ended after ${sent} of the ${declared} bytes its Content-Length declared`,
    );
  }
  return response;
}

const DIGITS = /^\d+$/;

/**
 * A Content-Length value as a client takes it: digits (however many: past what a body can be,
 * the client waits for bytes that never come), or a list of one value repeated, as browsers take
 * it. NaN for any other value, which clients refuse; undefined when there is none.
 */
function declaredLength(value: string | string[] | undefined): number | undefined {
  if (typeof value !== 'string') return undefined;
  if (DIGITS.test(value)) return Number(value);
  const [first, ...others] = value.split(',').map((one) => one.trim());
  if (first === undefined || !DIGITS.test(first) || others.some((one) => one !== first)) {
    return NaN;
  }
  return Number(first);
}

/**
 * What Node's server does with a request once its response has finished (`resOnFinish`): the
 * body nobody read is dumped, so the request ends and closes. Apps clean up on the request's
 * 'end' or 'close' (timers, subscriptions, per-request stores): without this, they never ran.
 * Node skips a request the app is reading (`_consuming`, set as the socket is read); here the
 * body is pushed before the app runs, so a request the app has started reading (flowing or
 * paused, `readableFlowing` no longer null) stands for it.
 */
function drainRequest(req: IncomingMessage): void {
  const { _readableState, _dump } = req as unknown as {
    _readableState?: { resumeScheduled?: boolean };
    _dump?: () => void;
  };
  if (req.readableFlowing !== null || _readableState?.resumeScheduled) return;
  // Node's own `_dump` (it also drops 'data' listeners, as a direct request's are), or the
  // public equivalent should a version not have it.
  if (typeof _dump === 'function') _dump.call(req);
  else req.resume();
}

/**
 * The error Node's server destroys a request with when its connection goes before the answer
 * (`abortIncoming`): `'error'` then reaches the request's listeners (none: no throw), as
 * directly.
 */
function connectionReset(): NodeJS.ErrnoException {
  return Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
}

function createRequest(socket: OperationSocket, request: DispatchRequest): IncomingMessage {
  const req = new IncomingMessage(socket as unknown as Socket);
  req.method = request.method;
  req.url = request.url;
  req.httpVersion = '1.1';
  req.httpVersionMajor = 1;
  req.httpVersionMinor = 1;
  req.headers = request.headers;
  const rawHeaders: string[] = [];
  for (const [name, value] of Object.entries(request.headers)) rawHeaders.push(name, value);
  req.rawHeaders = rawHeaders;
  markSubRequest(req, request.info);
  if (request.body) req.push(request.body);
  req.push(null);
  req.complete = true;
  return req;
}
