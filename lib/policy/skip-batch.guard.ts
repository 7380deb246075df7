import {
  ForbiddenException,
  Injectable,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { isBatchOperation } from '../dispatch/sub-request.marker.js';
import { SkipBatch } from './skip-batch.decorator.js';

/**
 * Refuses batch operations on routes marked {@link SkipBatch}. Registered as a global guard by
 * BatchModule; a no-op for requests of their own and for non-HTTP contexts.
 */
@Injectable()
export class SkipBatchGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    if (!isBatchOperation(context.switchToHttp().getRequest<object>())) return true;
    const skip = this.reflector.getAllAndOverride(SkipBatch, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (skip) {
      throw new ForbiddenException('This route cannot be reached from inside a batch');
    }
    return true;
  }
}
