import { Module } from '@nestjs/common';
import { Registry } from 'prom-client';
import { BatchMetricsListener } from './batch-metrics.listener.js';
import { MetricsController } from './metrics.controller.js';

@Module({
  controllers: [MetricsController],
  providers: [{ provide: Registry, useValue: new Registry() }, BatchMetricsListener],
})
export class MetricsModule {}
