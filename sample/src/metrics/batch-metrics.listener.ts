import { Injectable } from '@nestjs/common';
import {
  BatchListener,
  type BatchEventListener,
  type BatchFinishEvent,
  type BatchOperationFinishEvent,
} from 'nestjs-batch';
import { Counter, Histogram, Registry } from 'prom-client';

/** Batch metrics for Prometheus: a `@BatchListener()` provider is all it takes. */
@BatchListener()
@Injectable()
export class BatchMetricsListener implements BatchEventListener {
  private readonly batches: Histogram<'format' | 'end'>;
  private readonly operations: Counter<'status' | 'reason'>;

  constructor(registry: Registry) {
    this.batches = new Histogram({
      name: 'batch_duration_seconds',
      help: 'Batches by format and how they ended',
      labelNames: ['format', 'end'],
      registers: [registry],
    });
    this.operations = new Counter({
      name: 'batch_operations_total',
      help: 'Batched operations by status, and why the library answered for them',
      labelNames: ['status', 'reason'],
      registers: [registry],
    });
  }

  onBatchFinish(event: BatchFinishEvent): void {
    this.batches.observe(
      { format: event.format ?? 'code', end: event.end },
      event.durationMs / 1000,
    );
  }

  onOperationFinish(event: BatchOperationFinishEvent): void {
    this.operations.inc({ status: event.status, reason: event.reason ?? 'none' });
  }
}
