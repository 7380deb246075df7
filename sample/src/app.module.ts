import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { BatchModule } from 'nestjs-batch';
import { LabModule } from './lab/lab.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { ResponseTimeInterceptor } from './response-time.interceptor.js';
import { TodosModule } from './todos/todos.module.js';

@Module({
  imports: [
    TodosModule,
    // GET /metrics: batches and their operations, fed by a batch listener.
    MetricsModule,
    BatchModule.forRoot({ limit: 50, timeout: 10_000, operationTimeout: 2_000 }),
    // Slow, failing and hanging routes that `npm run soak` drives; off unless asked for.
    ...(process.env.SAMPLE_LAB === '1' ? [LabModule] : []),
  ],
  providers: [{ provide: APP_INTERCEPTOR, useClass: ResponseTimeInterceptor }],
})
export class AppModule {}
