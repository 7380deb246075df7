import {
  type CallHandler,
  type ExecutionContext,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { type Observable, tap } from 'rxjs';

/** Stamps how long the handler took; batched operations get their own stamp. */
@Injectable()
export class ResponseTimeInterceptor implements NestInterceptor {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const started = process.hrtime.bigint();
    const response: unknown = context.switchToHttp().getResponse();
    return next.handle().pipe(
      tap(() => {
        const micros = (process.hrtime.bigint() - started) / 1000n;
        this.adapterHost.httpAdapter.setHeader(response, 'x-response-time', `${micros}us`);
      }),
    );
  }
}
