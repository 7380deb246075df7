import { Controller, Get, Header } from '@nestjs/common';
import { Registry } from 'prom-client';

/** What Prometheus scrapes. */
@Controller('metrics')
export class MetricsController {
  constructor(private readonly registry: Registry) {}

  @Get()
  @Header('content-type', 'text/plain; version=0.0.4')
  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}
