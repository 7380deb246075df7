import {
  Controller,
  DefaultValuePipe,
  Get,
  HttpCode,
  ParseIntPipe,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Routes that misbehave on purpose, for `npm run soak`: slow, throwing and hanging handlers, and
 * the counters the soak reads to prove that abandoned operations really stop.
 */
@Controller('lab')
export class LabController {
  private inFlight = 0;
  private readonly loopDelay = monitorEventLoopDelay({ resolution: 10 });

  constructor() {
    this.loopDelay.enable();
  }

  @Get('slow')
  slow(@Query('ms', new DefaultValuePipe(100), ParseIntPipe) ms: number): Promise<object> {
    return this.tracked(async () => {
      await sleep(Math.min(ms, 5_000));
      return { slept: ms };
    });
  }

  @Get('fail')
  fail(): never {
    throw new Error('lab: this handler throws on purpose');
  }

  /** Never answers; ends only when the request is abandoned (the connection or the operation is dropped). */
  @Get('hang')
  hang(@Res({ passthrough: true }) reply: object): Promise<object> {
    // Node's response under either adapter: Express's is one, Fastify's reply holds it as `raw`.
    const response = ('raw' in reply ? reply.raw : reply) as ServerResponse;
    return this.tracked(
      () =>
        new Promise((resolve) => {
          // A safety net, so a library bug shows as a stuck count rather than a leak forever.
          const timer = setTimeout(() => resolve({ hung: 'for a minute' }), 60_000);
          response.once('close', () => {
            clearTimeout(timer);
            resolve({ abandoned: true });
          });
        }),
    );
  }

  @Get('stats')
  stats(): object {
    return {
      inFlight: this.inFlight,
      rss: process.memoryUsage().rss,
      eventLoopDelayMaxMs: this.loopDelay.max / 1e6,
    };
  }

  @Post('stats/reset')
  @HttpCode(204)
  reset(): void {
    this.loopDelay.reset();
  }

  private async tracked<T>(work: () => Promise<T>): Promise<T> {
    this.inFlight++;
    try {
      return await work();
    } finally {
      this.inFlight--;
    }
  }
}
