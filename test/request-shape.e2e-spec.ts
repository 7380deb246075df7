/**
 * The batch request, as the app's guards see it, keeps the hidden class V8 gives every request of
 * its framework. One made a dictionary is slower to read, and so is every other request the same
 * code reads (Fastify's hooks, Nest's router, the app's guards): operations included. Measured:
 * the batched path 5% slower on Fastify (bench/README.md, "One accessor pair").
 */
import { Injectable, Module, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { setFlagsFromString } from 'node:v8';
import { forEachPlatform } from './utils/platforms.js';
import { postBatch, useTestApp } from './utils/test-app.js';

setFlagsFromString('--allow-natives-syntax');
// eslint-disable-next-line @typescript-eslint/no-implied-eval -- V8's intrinsics parse only in code compiled after the flag
const hasFastProperties = new Function('o', 'return %HasFastProperties(o)') as (
  o: object,
) => boolean;

interface Seen {
  fast: boolean;
  body: unknown;
}
const seen: Seen[] = [];

/** Notes the shape and the body of each batch request it lets through. */
@Injectable()
class ShapeGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context
      .switchToHttp()
      .getRequest<{ url?: string; raw?: { url?: string }; body?: unknown }>();
    if ((request.raw ?? request).url === '/batch') {
      seen.push({ fast: hasFastProperties(request), body: request.body });
    }
    return true;
  }
}

@Module({ providers: [{ provide: APP_GUARD, useClass: ShapeGuard }] })
class ShapeModule {}

forEachPlatform(() => {
  const t = useTestApp({ imports: [ShapeModule] });

  it('keeps the batch request in fast mode, its body read as the app would parse it', async () => {
    seen.length = 0;
    const data = [{ method: 'GET', url: '/users/1' }];
    for (let i = 0; i < 3; i++) expect((await postBatch(t, data)).status).toBe(200);
    expect(seen).toEqual([1, 2, 3].map(() => ({ fast: true, body: { data } })));
  });
});
