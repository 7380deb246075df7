import { ForbiddenException, type ExecutionContext } from '@nestjs/common';
import { ApplicationConfig, ModulesContainer, Reflector } from '@nestjs/core';
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { markSubRequest } from '../dispatch/sub-request.marker.js';
import { SkipBatch } from '../decorators/skip-batch.decorator.js';
import type { ResolvedBatchOptions } from '../batch.options.js';
import { RouteExclusions } from './route-exclusions.provider.js';
import { SkipBatchGuard } from './skip-batch.guard.js';

class Resolver {
  @SkipBatch()
  closeAccount(): boolean {
    return true;
  }
}

const operation = (): IncomingMessage => {
  const request = new IncomingMessage(new Socket());
  markSubRequest(request, { index: 0 });
  return request;
};

/** A resolver's context as Nest hands it to guards: (root, args, context, info). */
function resolverCall(graphqlContext: unknown): ExecutionContext {
  return {
    getType: () => 'graphql',
    getArgByIndex: (index: number) => (index === 2 ? graphqlContext : undefined),
    getHandler: () => Resolver.prototype.closeAccount,
    getClass: () => Resolver,
  } as unknown as ExecutionContext;
}

describe('SkipBatchGuard on a GraphQL resolver', () => {
  const options = { exclude: [] } as unknown as ResolvedBatchOptions;
  const exclusions = new RouteExclusions(options, new ApplicationConfig(), new ModulesContainer());
  const guard = new SkipBatchGuard(new Reflector(), exclusions);

  it.each([
    ['@nestjs/apollo on Express: { req }', () => ({ req: operation() })],
    [
      '@nestjs/apollo on Fastify: { req } (Fastify wraps it as .raw)',
      () => ({ req: { raw: operation() } }),
    ],
    [
      "Mercurius under a `req` of the app's own: reply.request",
      () => ({ req: { user: 'ann' }, reply: { request: { raw: operation() } } }),
    ],
  ])('refuses a batch operation, %s', (_, context) => {
    expect(() => guard.canActivate(resolverCall(context()))).toThrow(ForbiddenException);
  });

  it.each([
    ['a request of its own', () => ({ req: new IncomingMessage(new Socket()) })],
    ["a context with no request (the app's own `req`)", () => ({ req: { user: 'ann' } })],
    ['no context', () => undefined],
  ])('lets through %s', (_, context) => {
    expect(guard.canActivate(resolverCall(context()))).toBe(true);
  });
});
