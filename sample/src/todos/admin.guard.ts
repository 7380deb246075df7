import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';

/** A stand-in for real auth: `Authorization: Bearer admin-token`. */
@Injectable()
export class AdminGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return (
      // Express and Fastify requests both carry `headers`.
      context.switchToHttp().getRequest<{ headers: Record<string, unknown> }>().headers
        .authorization === 'Bearer admin-token'
    );
  }
}
