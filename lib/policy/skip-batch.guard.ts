import {
  ForbiddenException,
  Injectable,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { failureBody, NestedBatchException } from '../batch.exceptions.js';
import { getBatchOperation, noteLibraryRefusal } from '../dispatch/sub-request.marker.js';
import { operationLabel } from '../validation/operation.label.js';
import { isBatchEndpoint } from './batch-endpoint.marker.js';
import { RouteExclusions } from './route-exclusions.provider.js';
import { SkipBatch } from '../decorators/skip-batch.decorator.js';
import { nodeMessageOf } from '../platform/node-message.reader.js';

/** The request fields the guard reads, on the framework's request and on Node's under it. */
interface RoutedRequest {
  readonly method?: string;
  readonly url?: string;
  readonly originalUrl?: string;
}

/**
 * Where a GraphQL resolver's context (its third argument) holds the HTTP request: `req` is set by
 * @nestjs/apollo (Express and Fastify) and @nestjs/mercurius unless the app's own `context` puts
 * an object there; Mercurius adds the Fastify reply, whose `request` is the same request, to
 * every context.
 */
interface GraphqlContext {
  readonly req?: unknown;
  readonly reply?: { readonly request?: unknown };
}

const isObject = (value: unknown): value is object => typeof value === 'object' && value !== null;

/**
 * Refuses batch operations on routes marked {@link SkipBatch}, and on routes `exclude` names as
 * the app finally routed them. Registered as a global guard by BatchModule; a no-op for requests
 * of their own and for contexts neither HTTP nor GraphQL.
 *
 * The second check is the last of three for `exclude`: middleware runs after the first two, and
 * can change what an operation reaches (`method-override` reading a query key or a header of its
 * own choosing, url rewriting). A guard runs after all middleware, on the method and url the
 * router matched.
 *
 * Nest runs global guards on GraphQL resolvers too, with the type `'graphql'` (a resolver is the
 * handler). Returning true there let an operation run a `@SkipBatch()` mutation, or reach an
 * excluded `/graphql` through a url rewrite. The refusal comes back as a GraphQL error in the
 * app's answer (a 200), and the resolver never runs.
 */
@Injectable()
export class SkipBatchGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly exclusions: RouteExclusions,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const request = requestOf(context);
    if (request === undefined) return true;
    const operation = getBatchOperation(request);
    if (operation === undefined) return true;
    const skip = this.reflector.getAllAndOverride(SkipBatch, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (skip) {
      // The batch endpoint is marked too; a batch sent as an operation gets its own reason.
      if (isBatchEndpoint(context)) {
        noteLibraryRefusal(request, 'nested-batch');
        throw new NestedBatchException();
      }
      noteLibraryRefusal(request, 'skip-batch');
      throw new ForbiddenException(
        failureBody(403, 'skip-batch', 'This route cannot be reached from inside a batch'),
      );
    }
    if (this.exclusions.any) {
      const node = nodeMessageOf(request) as Omit<RoutedRequest, 'originalUrl'>;
      const method = (request.method ?? node.method ?? 'GET').toUpperCase();
      const urls = [request.url, request.originalUrl, node.url].filter(
        (url): url is string => url !== undefined,
      );
      const excluded = urls.find((url) => this.exclusions.excludes(method, url, true));
      if (excluded !== undefined) {
        noteLibraryRefusal(request, 'excluded');
        throw new ForbiddenException(
          failureBody(
            403,
            'excluded',
            `${operationLabel(operation.index, operation.name)} cannot be run in a batch: ${method} ${excluded} is excluded (exclude option)`,
          ),
        );
      }
    }
    return true;
  }
}

/**
 * The HTTP request the guarded handler serves: a route's, or for a GraphQL resolver the one its
 * context carries (read without @nestjs/graphql, which the library does not depend on). For
 * GraphQL the first candidate that is a batch operation, so a `req` of the app's own (not a
 * request) does not hide Mercurius's `reply.request`. Undefined for other contexts (RPC,
 * WebSockets), which no operation can reach.
 */
function requestOf(context: ExecutionContext): (RoutedRequest & object) | undefined {
  const type = context.getType<string>();
  if (type === 'http') return context.switchToHttp().getRequest<RoutedRequest & object>();
  if (type !== 'graphql') return undefined;
  const gql = context.getArgByIndex<GraphqlContext | undefined>(2);
  if (!isObject(gql)) return undefined;
  const candidates = [gql.req, isObject(gql.reply) ? gql.reply.request : undefined];
  return candidates.find(
    (candidate): candidate is RoutedRequest & object =>
      isObject(candidate) && getBatchOperation(candidate) !== undefined,
  );
}
