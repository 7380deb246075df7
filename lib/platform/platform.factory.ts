import { NotImplementedException } from '@nestjs/common';
import { AbstractHttpAdapter, type HttpAdapterHost } from '@nestjs/core';
import { ExpressPlatform, type ExpressApp } from './express.platform.js';
import {
  FastifyPlatform,
  type FastifyAdapterLike,
  type FastifyInstanceLike,
} from './fastify.platform.js';
import type { HttpPlatform } from './http.platform.js';

/**
 * The platform of the app's HTTP adapter: the one place that asks which adapter runs. Read at
 * use, not at construction: in a testing module the adapter does not exist while providers
 * are built.
 */
export function httpPlatformOf(adapterHost: HttpAdapterHost): HttpPlatform {
  const adapter = adapterHost.httpAdapter as typeof adapterHost.httpAdapter | undefined;
  if (!adapter) {
    throw new Error('nestjs-batch: the app has no HTTP adapter yet; call app.init() first');
  }
  const type = adapter.getType();
  if (type === 'express') return new ExpressPlatform(adapter.getInstance<ExpressApp>());
  if (type === 'fastify') {
    return new FastifyPlatform(
      adapter.getInstance<FastifyInstanceLike>(),
      // AbstractHttpAdapter's own setOnRequestHook does nothing: only an override runs the hook.
      adapter.setOnRequestHook === AbstractHttpAdapter.prototype.setOnRequestHook
        ? {}
        : (adapter as FastifyAdapterLike),
    );
  }
  throw new NotImplementedException(`nestjs-batch cannot dispatch into the "${type}" adapter`);
}
