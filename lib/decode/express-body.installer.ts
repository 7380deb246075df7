import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { ApplicationConfig, HttpAdapterHost, ModulesContainer } from '@nestjs/core';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BATCH_MODULE, BATCH_OPTIONS, BATCH_PATH } from '../batch.internal-constants.js';
import type { ResolvedBatchOptions } from '../batch.options.js';
import { BodyTooLargeError, readBody, stashWireBody } from './body.reader.js';

/**
 * Where RouterModule keeps a module's path (`MODULE_PATH` of @nestjs/common, exported from
 * '/internal' in Nest 12 and '/constants' before): read here as Nest's RoutesResolver reads it.
 */
const MODULE_PATH = '__module_path__';

type Handler = (request: IncomingMessage, response: ServerResponse, next: () => void) => void;
interface ExpressLike {
  use(handler: Handler): unknown;
  router?: { stack?: unknown[] };
  _router?: { stack?: unknown[] };
}

/**
 * Puts a reader of the batch body in front of Express's body parsers, so `maxBodySize` is
 * enforced before the body is read whole and formats the app does not parse (multipart/mixed)
 * reach the decoder. The app's parsers skip a request whose body has been read, and every other
 * request passes untouched. Without it (another adapter), the decoder takes what the app parsed.
 */
@Injectable()
export class ExpressBodyInstaller implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly config: ApplicationConfig,
    @Inject(BATCH_OPTIONS) private readonly options: ResolvedBatchOptions,
    @Inject(BATCH_PATH) private readonly path: string,
    private readonly modules: ModulesContainer,
    @Inject(BATCH_MODULE) private readonly batchModule: object,
  ) {}

  /** Runs after Nest registered its parsers and routes, when the global prefix is final. */
  onModuleInit(): void {
    const adapter = this.adapterHost.httpAdapter as typeof this.adapterHost.httpAdapter | undefined;
    if (adapter?.getType() !== 'express') return;
    const app = adapter.getInstance<ExpressLike>();
    const endpoint = this.endpointPath();
    const limit = this.options.maxBodySize;
    app.use((request, response, next) => {
      // readableEnded: someone read the body before us (the layer could not go first).
      if (request.method !== 'POST' || request.readableEnded || !isPath(request.url, endpoint)) {
        next();
        return;
      }
      readBody(request, limit).then(
        (bytes) => {
          stashWireBody(request, bytes);
          next();
        },
        (error: unknown) => {
          if (error instanceof BodyTooLargeError) refuseTooLarge(response, error.message);
          // Otherwise the client is gone: there is no one to answer.
        },
      );
    });
    const stack = (app.router ?? app._router)?.stack;
    if (stack) stack.unshift(stack.pop());
  }

  /**
   * `/<global prefix>/<RouterModule path>/<path>` in lower case, as Express (case-insensitive by
   * default) matches it.
   */
  private endpointPath(): string {
    const modulePath: unknown =
      Reflect.getMetadata(MODULE_PATH + this.modules.applicationId, this.batchModule) ??
      Reflect.getMetadata(MODULE_PATH, this.batchModule);
    const own = `/${typeof modulePath === 'string' ? modulePath : ''}/${this.path}`.replace(
      /\/+/g,
      '/',
    );
    const prefix = this.config.getGlobalPrefix();
    const excluded = (this.config.getGlobalPrefixOptions().exclude ?? []).some((route) =>
      route.pathRegex.test(own),
    );
    const full = prefix && !excluded ? `/${prefix}${own}` : own;
    return full
      .replace(/\/+/g, '/')
      .replace(/(.)\/$/, '$1')
      .toLowerCase();
  }
}

function isPath(url: string | undefined, endpoint: string): boolean {
  const path = (url ?? '').split('?', 1)[0] ?? '';
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  return trimmed.toLowerCase() === endpoint;
}

/**
 * Answered here, before the app's middleware, exactly as the app's own body parser would refuse
 * an oversized body; the connection is closed so the unread rest is never taken in.
 */
function refuseTooLarge(response: ServerResponse, message: string): void {
  const body = JSON.stringify({ statusCode: 413, message, error: 'Payload Too Large' });
  response.writeHead(413, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    connection: 'close',
  });
  response.end(body);
}
