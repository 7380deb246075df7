import { Injectable } from '@nestjs/common';
import type { EventEmitter } from 'node:events';
import { HttpAdapterHost } from '@nestjs/core';
import type { HttpPlatform } from './http.platform.js';
import { httpPlatformOf } from './platform.factory.js';

/**
 * The app's {@link HttpPlatform}, built once, on first use: in a testing module the HTTP adapter
 * does not exist yet while providers are constructed, only by `onModuleInit` and later.
 */
@Injectable()
export class HttpPlatformHost {
  private platform?: HttpPlatform;

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  get(): HttpPlatform {
    this.platform ??= httpPlatformOf(this.adapterHost);
    return this.platform;
  }

  /** The app's HTTP server, once the adapter made it: where a batch run from code enters. */
  server(): EventEmitter | undefined {
    // Typed as always there; undefined in an app without HTTP (a standalone application).
    const adapter = this.adapterHost.httpAdapter as HttpAdapterHost['httpAdapter'] | undefined;
    return adapter?.getHttpServer() as EventEmitter | undefined;
  }
}
