import { requestedEntryHeaders } from './entry-headers.query.js';
import { Controller, Inject, Post, Req, Res, VERSION_NEUTRAL, type Type } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { finalize } from 'rxjs';
import { CrossSiteBatchException, NestedBatchException } from '../batch.exceptions.js';
import { BATCH_OPTIONS } from '../batch.constants.js';
import type { ResolvedBatchOptions } from '../batch.options.js';
import { decodeBatchRequest } from '../formats/batch.decoder.js';
import { isBatchOperation } from '../dispatch/sub-request.marker.js';
import { observableOf } from '../dispatch/operation.task.js';
import type { CutOff } from '../schedule/batch.bounds.js';
import { BatchExecutor, outcomesOf, planBatchRun } from '../schedule/batch.executor.js';
import { isCrossSiteRequest } from '../operation/cookie.rules.js';
import { collectEncoded, collectEntries } from '../schedule/entries.collector.js';
import { markBatchEndpoint } from '../policy/batch-endpoint.marker.js';
import { crossSiteRefusal } from '../policy/cross-site.rules.js';
import { sentWithoutCredentials } from '../policy/cors.rules.js';
import { SkipBatch } from '../decorators/skip-batch.decorator.js';
import { nodeMessageOf } from '../platform/node-message.reader.js';
import { HttpPlatformHost } from '../platform/http-platform.host.js';
import { releaseBatchSession } from './batch-session.release.js';
import { connectionCloses } from './connection-close.reader.js';
import { holdConnectionIdle, timedWhileBehind } from './connection-idle.hold.js';
import { destroyStalledReply } from './reply.watchdog.js';
import { ReplyCookies, withoutEntryCookies } from './reply.cookies.js';
import { relayedCookiesLast } from './relayed-cookies.order.js';
import { jsonPiece, ReplyWriter } from './reply.writer.js';

/**
 * Makes the controller of `POST /<path>`. A class per path, because Nest reads a controller's
 * path from its decorator once, when routes are registered.
 */
export function createBatchController(path: string): Type<unknown> {
  @SkipBatch()
  @Controller({ path, version: VERSION_NEUTRAL })
  class BatchController {
    constructor(
      @Inject(BATCH_OPTIONS) private readonly options: ResolvedBatchOptions,
      @Inject(BatchExecutor) private readonly executor: BatchExecutor,
      @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
      @Inject(HttpPlatformHost) private readonly platform: HttpPlatformHost,
    ) {}

    /**
     * decode -> plan -> execute -> encode, each by its format. The body is taken without
     * `@Body()`: a global ValidationPipe then leaves it alone, and the decoder validates it with
     * its own rules. A format with a streamed reply (native, with `Accept: application/x-ndjson`)
     * writes a line per operation as it finishes.
     *
     * A batch that cannot run is refused by throwing, from decoding or planning, before anything
     * runs and before the handler returns, so the app's exception filters answer it. Once it runs, the handler returns at once and the reply is
     * written by {@link ReplyWriter}, not by Nest: nothing the global interceptors do to the
     * handler's result (wrap it, serialise it, time it out) reaches the envelope, while
     * interceptors that only observe still see the batch request and may set headers on it.
     */
    @Post()
    handle(@Req() request: object, @Res() response: object): void {
      const incoming = nodeMessageOf(request) as IncomingMessage;
      // Also refused by SkipBatchGuard; checked here too in case another global guard lets it by.
      if (isBatchOperation(incoming)) {
        throw new NestedBatchException();
      }
      const crossSite = crossSiteRefusal(incoming);
      if (crossSite !== undefined) throw new CrossSiteBatchException(crossSite);
      const siteHost = (): string | undefined => hostnameOf(request);
      const keepNone =
        this.options.operationCors === 'browser' &&
        sentWithoutCredentials(incoming, (name) =>
          this.adapterHost.httpAdapter.getHeader(response, name),
        );
      const entryHeaders = requestedEntryHeaders(incoming.url);
      // Not `@Body()`: once the library read the body, `body` is parsed when first read (for
      // the app's middleware), and the decoder parses the bytes itself, by its own rules.
      const batch = decodeBatchRequest(incoming, () => bodyOf(request), this.options);
      const { operations } = planBatchRun(batch.operations, this.options, batch.literalText);
      releaseBatchSession(request);
      const outgoing = nodeMessageOf(response) as ServerResponse;
      const idle = holdConnectionIdle(incoming, outgoing);
      // The batch's connection is to close after its reply: a graceful shutdown marked it so.
      const closesAfterReply = (): boolean => connectionCloses(outgoing);
      const writer = new ReplyWriter(
        this.adapterHost.httpAdapter,
        response,
        outgoing,
        this.platform.get(),
      );
      const gone = new ReplyGone(outgoing);
      const context = {
        request: incoming,
        format: batch.format,
        planned: batch.planned?.bind(batch),
        entryHeaders,
        sequential: batch.sequential,
      };

      const streamed = batch.stream?.(incoming.headers.accept, (readyToStart) =>
        // Its headers are sent before any operation answers: it carries no Set-Cookie.
        observableOf(
          withoutEntryCookies(
            outcomesOf(
              this.executor,
              operations,
              { ...context, readyToStart: timedWhileBehind(idle, readyToStart) },
              gone,
              { keepNone, siteHost },
              closesAfterReply,
            ),
          ),
        ).pipe(finalize(idle.close)),
      );
      if (streamed) {
        this.watchReply(outgoing);
        // Proxies that buffer (nginx) would hold every line back until the end.
        writer.setHeader('cache-control', 'no-cache');
        writer.setHeader('x-accel-buffering', 'no');
        writer.stream(streamed.stream, streamed.contentType);
        return;
      }
      const cookies = new ReplyCookies(isCrossSiteRequest(incoming.headers['sec-fetch-site']));
      const outcomes = withoutEntryCookies(
        outcomesOf(
          this.executor,
          operations,
          context,
          gone,
          {
            keepNone,
            siteHost,
            cutOff: (url, sent) => cookies.add(url, sent),
          },
          closesAfterReply,
        ),
        (result) => cookies.take(result),
      );
      // The reply's Set-Cookie is known once every operation has finished, so its headers go
      // last; a JSON format's entries are serialised as they finish, the results let go.
      const { json } = batch;
      const reply: Promise<() => void> = json
        ? collectEncoded(operations, outcomes, (index, entry) =>
            jsonPiece(json.entry(index, entry)),
          ).then((pieces) => () => writer.writeJson(json.open, pieces, json.close))
        : collectEntries(operations, outcomes).then(
            (entries) => () => writer.write(batch.encode(entries)),
          );
      this.watchReply(outgoing);
      reply.then(
        (write) => {
          idle.close();
          try {
            const { clearSiteData } = cookies;
            if (clearSiteData) writer.setHeader('clear-site-data', clearSiteData);
            const relayed = cookies.all;
            for (const value of relayed) writer.appendHeader('set-cookie', value);
            relayedCookiesLast(outgoing, relayed);
            write();
          } catch (error) {
            writer.fail(error);
          }
        },
        (error: unknown) => {
          idle.close();
          writer.fail(error);
        },
      );
    }

    private watchReply(outgoing: ServerResponse): void {
      if (this.options.replyWriteTimeout > 0) {
        destroyStalledReply(outgoing, this.options.replyWriteTimeout);
      }
    }
  }
  markBatchEndpoint(BatchController);
  return BatchController;
}

/**
 * The host the client addressed, as the app reads it: Express's and Fastify's request both give
 * it as `hostname`, from `X-Forwarded-Host` when the app trusts its proxy, else from Host. Not
 * the scheme: an app behind a TLS proxy it does not trust reads `http`, though the browser is on
 * https and keeps a `Secure` cookie.
 */
function hostnameOf(request: object): string | undefined {
  const { hostname } = request as { hostname?: unknown };
  return typeof hostname === 'string' && hostname !== '' ? hostname : undefined;
}

/**
 * Cuts the batch off when the client goes away: 'close' before the response finished. Once the
 * response has finished, 'close' is the normal end and cuts nothing. A listener on the response
 * only while the batch listens, where an `AbortController` per batch cost more than the rest of
 * the batch's bounds (in CPU profiles).
 */
class ReplyGone implements CutOff {
  private gone = false;
  private listener: (() => void) | undefined;
  private readonly onClose = (): void => {
    if (this.response.writableFinished && !resetByClient(this.response)) return;
    this.gone = true;
    this.listener?.();
  };

  constructor(private readonly response: ServerResponse) {}

  get aborted(): boolean {
    return this.gone;
  }

  /** One listener: the bounds of the one run the reply carries. */
  addEventListener(_type: 'abort', listener: () => void): void {
    if (this.listener === undefined) this.response.once('close', this.onClose);
    this.listener = listener;
  }

  removeEventListener(): void {
    this.listener = undefined;
    this.response.off('close', this.onClose);
  }
}

/**
 * Whether an HTTP/2 response's stream was reset by its client: Node's compat response then
 * emits 'finish' and 'close' as though it had been answered (`writableFinished`), where an
 * HTTP/1 response whose connection went is left unfinished. (The stream's code is 0 once the
 * reply was sent in full.)
 */
function resetByClient(response: ServerResponse): boolean {
  const { stream } = response as { stream?: { aborted?: boolean; rstCode?: number } };
  return stream !== undefined && (stream.aborted === true || (stream.rstCode ?? 0) !== 0);
}

/** The request's `body`, where Nest's `@Body()` reads it: on Fastify's request, not the raw one. */
function bodyOf(request: object): unknown {
  return (request as { body?: unknown }).body;
}
