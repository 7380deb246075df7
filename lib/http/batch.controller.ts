import {
  Body,
  Controller,
  HttpCode,
  HttpStatus,
  Inject,
  Post,
  Req,
  Res,
  StreamableFile,
  VERSION_NEUTRAL,
  type Type,
} from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { NDJSON_MEDIA_TYPE } from '../batch.constants.js';
import { CrossSiteBatchException, NestedBatchException } from '../batch.exceptions.js';
import { BATCH_OPTIONS } from '../batch.constants.js';
import type { ResolvedBatchOptions } from '../batch.options.js';
import { decodeBatchRequest } from '../formats/batch.decoder.js';
import { isBatchOperation } from '../dispatch/sub-request.marker.js';
import { acceptsNdjson, streamNdjson } from '../formats/ndjson.encoder.js';
import { BatchExecutor } from '../execute/batch.executor.js';
import { markBatchEndpoint } from '../policy/batch-endpoint.marker.js';
import { crossSiteRefusal } from '../policy/cross-site.rules.js';
import { SkipBatch } from '../policy/skip-batch.decorator.js';
import { destroyStalledReply } from './reply-write.watchdog.js';

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
    ) {}

    /**
     * decode -> plan + execute -> encode, each format by its codec. `body` is typed `unknown` on
     * purpose: a global ValidationPipe then leaves it alone, and the decoder validates it with its
     * own rules. A native batch with `Accept: application/x-ndjson` streams a line per operation
     * as it finishes.
     */
    @Post()
    @HttpCode(HttpStatus.OK)
    async handle(
      @Req() request: object,
      @Res({ passthrough: true }) response: object,
      @Body() body: unknown,
    ): Promise<unknown> {
      const incoming = rawOf(request) as IncomingMessage;
      // Also refused by SkipBatchGuard; checked here too in case another global guard lets it by.
      if (isBatchOperation(incoming)) {
        throw new NestedBatchException();
      }
      const crossSite = crossSiteRefusal(incoming);
      if (crossSite !== undefined) throw new CrossSiteBatchException(crossSite);
      const batch = decodeBatchRequest(incoming, body, this.options);
      const { operations } = batch;
      const outgoing = rawOf(response) as ServerResponse;
      const signal = abortOnDisconnect(outgoing);
      if (this.options.replyWriteTimeout > 0) {
        destroyStalledReply(outgoing, this.options.replyWriteTimeout);
      }
      const context = { request: incoming, signal };

      if (batch.format === 'native' && acceptsNdjson(incoming.headers.accept)) {
        const stream = streamNdjson(operations, (readyToStart) =>
          this.executor.run(operations, { ...context, readyToStart }),
        );
        // Proxies that buffer (nginx) would hold every line back until the end.
        outgoing.setHeader('cache-control', 'no-cache');
        outgoing.setHeader('x-accel-buffering', 'no');
        return new StreamableFile(stream, { type: NDJSON_MEDIA_TYPE });
      }
      const reply = batch.encode(await this.executor.execute(operations, context));
      if (reply.kind === 'json') return reply.body;
      return new StreamableFile(reply.body, { type: reply.contentType, length: reply.body.length });
    }
  }
  markBatchEndpoint(BatchController);
  return BatchController;
}

/**
 * Aborts when the client goes away: 'close' before the response finished. Once the response has
 * finished, 'close' is the normal end and aborts nothing.
 */
function abortOnDisconnect(response: ServerResponse): AbortSignal {
  const gone = new AbortController();
  response.once('close', () => {
    if (!response.writableFinished) gone.abort();
  });
  return gone.signal;
}

/** The Node object under an Express (itself) or Fastify (`.raw`) request or reply. */
function rawOf(message: object): object {
  return 'raw' in message && typeof message.raw === 'object' && message.raw ? message.raw : message;
}
