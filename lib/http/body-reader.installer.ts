import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { ApplicationConfig, ModulesContainer } from '@nestjs/core';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BATCH_OPTIONS } from '../batch.constants.js';
import { BATCH_MODULE, BATCH_PATH } from '../batch.internal-constants.js';
import type { ResolvedBatchOptions } from '../batch.options.js';
import { routerModulePathOf } from '../platform/framework.internals.js';
import { HttpPlatformHost } from '../platform/http-platform.host.js';
import { BatchBodyTooLargeException } from '../batch.exceptions.js';
import { stashWireBody } from '../platform/wire-body.stash.js';
import { BodyTooLargeError, readBody } from './batch-body.reader.js';

/**
 * Reads the batch body itself, in front of the app's body parsers, so `maxBodyBytes` is enforced
 * before the body is read whole and formats the app does not parse reach the decoder. Every
 * other request passes untouched.
 */
@Injectable()
export class BodyReaderInstaller implements OnModuleInit {
  constructor(
    private readonly platform: HttpPlatformHost,
    private readonly config: ApplicationConfig,
    @Inject(BATCH_OPTIONS) private readonly options: ResolvedBatchOptions,
    @Inject(BATCH_PATH) private readonly path: string,
    private readonly modules: ModulesContainer,
    @Inject(BATCH_MODULE) private readonly batchModule: object,
  ) {}

  /** Runs after Nest registered its parsers and routes, when the global prefix is final. */
  onModuleInit(): void {
    const limit = this.options.maxBodyBytes;
    this.platform.get().interceptBody(this.endpointPaths(), (request, response) =>
      readBody(request, limit).then(
        (bytes) => {
          stashWireBody(request, bytes);
          return true;
        },
        (error: unknown) => {
          if (error instanceof BodyTooLargeError) refuseTooLarge(request, response, error.limit);
          // Otherwise the client is gone: there is no one to answer.
          return false;
        },
      ),
    );
  }

  /**
   * `/<global prefix>/<RouterModule path>/<path>` in lower case. Never a URI version segment:
   * the batch controller is version-neutral.
   */
  private endpointPaths(): string[] {
    const own = join(routerModulePathOf(this.modules, this.batchModule) ?? '', this.path);
    const prefix = this.config.getGlobalPrefix();
    const excluded = (this.config.getGlobalPrefixOptions().exclude ?? []).some((route) =>
      route.pathRegex.test(own),
    );
    return [join(prefix && !excluded ? prefix : '', own).toLowerCase()];
  }
}

/** Joins path pieces into `/a/b`, without empty segments or a trailing slash. */
function join(...pieces: string[]): string {
  return `/${pieces.join('/')}`.replace(/\/+/g, '/').replace(/(.)\/$/, '$1');
}

/**
 * Answered before the app's middleware, exactly as the app's own body parser would refuse an
 * oversized body. Over HTTP/1.1 the connection is closed so the unread rest is never taken in;
 * HTTP/2 has no `connection` header (Node drops it with an UnsupportedWarning): ending the
 * response ends the stream, and the rest of the body is refused by flow control.
 */
function refuseTooLarge(request: IncomingMessage, response: ServerResponse, limit: number): void {
  const body = JSON.stringify(new BatchBodyTooLargeException(limit).getResponse());
  response.writeHead(413, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    ...(request.httpVersionMajor >= 2 ? {} : { connection: 'close' }),
  });
  response.end(body);
}
