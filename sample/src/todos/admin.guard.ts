import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';

/** A stand-in for real auth: `Authorization: Bearer admin-token`. */
@Injectable()
export class AdminGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return (
      context.switchToHttp().getRequest<Request>().headers.authorization === 'Bearer admin-token'
    );
  }
}
