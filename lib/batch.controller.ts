import {
  Body,
  Controller,
  ForbiddenException,
  HttpCode,
  HttpStatus,
  Inject,
  Post,
  Req,
  Res,
  VERSION_NEUTRAL,
  type Type,
} from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BATCH_OPTIONS } from './batch.internal-constants.js';
import type { ResolvedBatchOptions } from './batch.options.js';
import { decodeBatchRequest } from './decode/batch.decoder.js';
import { isBatchOperation } from './dispatch/sub-request.marker.js';
import { encodeNativeBatch, type NativeBatchReply } from './encode/native.encoder.js';
import { BatchExecutor } from './execute/batch.executor.js';
import { markBatchEndpoint } from './policy/batch-endpoint.marker.js';
import { SkipBatch } from './policy/skip-batch.decorator.js';

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
     * decode -> plan + execute -> encode. `body` is typed `unknown` on purpose: a global
     * ValidationPipe then leaves it alone, and the decoder validates it with its own rules.
     */
    @Post()
    @HttpCode(HttpStatus.OK)
    async handle(
      @Req() request: object,
      @Res({ passthrough: true }) response: object,
      @Body() body: unknown,
    ): Promise<NativeBatchReply> {
      const incoming = rawOf(request) as IncomingMessage;
      // Also refused by SkipBatchGuard; checked here too in case another global guard lets it by.
      if (isBatchOperation(incoming)) {
        throw new ForbiddenException('A batch cannot be sent as an operation of a batch');
      }
      const operations = decodeBatchRequest(incoming, body, this.options);
      const gone = new AbortController();
      const raw = rawOf(response) as ServerResponse;
      // 'close' before 'finish' means the client went away: stop what has not started.
      const onClose = (): void => {
        if (!raw.writableFinished) gone.abort();
      };
      raw.once('close', onClose);
      try {
        const entries = await this.executor.execute(operations, {
          request: incoming,
          signal: gone.signal,
        });
        return encodeNativeBatch(entries);
      } finally {
        raw.off('close', onClose);
      }
    }
  }
  markBatchEndpoint(BatchController);
  return BatchController;
}

/** The Node object under an Express (itself) or Fastify (`.raw`) request or reply. */
function rawOf(message: object): object {
  return 'raw' in message && typeof message.raw === 'object' && message.raw ? message.raw : message;
}
