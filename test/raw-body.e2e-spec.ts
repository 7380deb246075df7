/**
 * `NestFactory.create(AppModule, { rawBody: true })` gives every request whose JSON or form body
 * Nest's parsers read a `req.rawBody` (a Buffer): what request-signing schemes (an HMAC of the
 * body in a header, checked by a global guard) and webhook verifiers read. The library reads the
 * batch request's body before those parsers, and gave the app the `body` they would have made
 * of it, but no `rawBody`: a batch signed as any other JSON POST was refused whole.
 */
import {
  Body,
  Controller,
  HttpCode,
  Injectable,
  Module,
  Post,
  Req,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { forEachPlatform } from './utils/platforms.js';
import { entries, useTestApp } from './utils/test-app.js';

const SECRET = 'partner-shared-secret';
const sign = (bytes: Buffer | string): string =>
  `sha256=${createHmac('sha256', SECRET).update(bytes).digest('hex')}`;

/** Every POST must carry `X-Signature: sha256=<HMAC of its raw body>`, as a partner API asks. */
@Injectable()
class SignedBodyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{
      method: string;
      headers: Record<string, string | undefined>;
      rawBody?: unknown;
    }>();
    if (request.method !== 'POST' || request.headers['x-signature'] === undefined) return true;
    const given = Buffer.from(request.headers['x-signature']);
    if (!Buffer.isBuffer(request.rawBody)) return false;
    const expected = Buffer.from(sign(request.rawBody));
    return expected.length === given.length && timingSafeEqual(expected, given);
  }
}

@Controller('signed')
class SignedController {
  @Post()
  @HttpCode(201)
  create(@Body() body: unknown, @Req() request: { rawBody?: Buffer }): unknown {
    return { received: body, rawBytes: request.rawBody?.length ?? null };
  }
}

@Module({
  controllers: [SignedController],
  providers: [{ provide: APP_GUARD, useClass: SignedBodyGuard }],
})
class SignedModule {}

forEachPlatform(() => {
  const t = useTestApp({ imports: [SignedModule], app: { rawBody: true } });
  const operationBody = '{"sku":"A-1",  "qty":2}';

  it('a signed JSON POST sent directly passes the guard: rawBody is its bytes', async () => {
    const response = await t.http
      .post('/signed')
      .set('content-type', 'application/json')
      .set('x-signature', sign(operationBody))
      .send(operationBody)
      .expect(201);
    expect(response.body).toEqual({
      received: { sku: 'A-1', qty: 2 },
      rawBytes: operationBody.length,
    });
  });

  it('a batch signed the same way passes it too, and so does its signed operation', async () => {
    const batch = JSON.stringify({
      data: [
        {
          method: 'POST',
          url: '/signed',
          headers: { 'content-type': 'application/json', 'x-signature': sign(operationBody) },
          body: operationBody,
        },
      ],
    });
    const response = await t.http
      .post('/batch')
      .set('content-type', 'application/json')
      .set('x-signature', sign(batch))
      .send(batch)
      .expect(200);
    expect(entries(response)).toMatchObject([
      { code: 201, body: { received: { sku: 'A-1', qty: 2 }, rawBytes: operationBody.length } },
    ]);
  });

  it('a batch whose signature does not match its bytes is refused, as any other POST', async () => {
    const batch = JSON.stringify({ data: [{ method: 'GET', url: '/signed' }] });
    await t.http
      .post('/batch')
      .set('content-type', 'application/json')
      .set('x-signature', sign(`${batch} `))
      .send(batch)
      .expect(403);
  });
});
