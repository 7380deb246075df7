/**
 * A POST, PUT or PATCH sent without a body. Every common client sends it with
 * `Content-Length: 0` (fetch, Node's http, Python's requests), and body parsers read that as an
 * empty body: Express's JSON parser gives `{}`. Without the header a parser takes the request
 * as having no body at all, and `@Body()` is `undefined`.
 */
import { Body, Controller, Delete, Headers, Module, Patch, Post, Put } from '@nestjs/common';
import { baseOf } from './utils/raw-http.js';
import { forEachPlatform } from './utils/platforms.js';
import { entries, postBatch, useTestApp } from './utils/test-app.js';

type Seen = { body: string; length: string | null };

function seen(body: unknown, length: string | undefined): Seen {
  return { body: body === undefined ? 'undefined' : JSON.stringify(body), length: length ?? null };
}

@Controller('bodiless')
class BodilessController {
  @Post()
  post(@Body() body: unknown, @Headers('content-length') length?: string): Seen {
    return seen(body, length);
  }

  @Put()
  put(@Body() body: unknown, @Headers('content-length') length?: string): Seen {
    return seen(body, length);
  }

  @Patch()
  patch(@Body() body: unknown, @Headers('content-length') length?: string): Seen {
    return seen(body, length);
  }

  @Delete()
  delete(@Body() body: unknown, @Headers('content-length') length?: string): Seen {
    return seen(body, length);
  }
}

@Module({ controllers: [BodilessController] })
class BodilessModule {}

forEachPlatform(() => {
  const t = useTestApp({ imports: [BodilessModule], strictValidation: false });

  it.each([
    ['POST', {}],
    ['POST', { 'content-type': 'application/json' }],
    ['PUT', { 'content-type': 'application/json' }],
    ['PUT', {}],
    ['PATCH', { 'content-type': 'application/json' }],
    ['DELETE', {}],
    ['DELETE', { 'content-type': 'application/json' }],
  ] as const)(
    '%s %j without a body: the handler sees what it sees of a fetch',
    async (method, headers) => {
      const direct = await fetch(`${baseOf(t)}/bodiless`, { method, headers });
      const directBody = await direct.text();
      const response = await postBatch(t, [{ method, url: '/bodiless', headers }]).expect(200);
      const [entry] = entries(response);
      // Before the fix, Express gave `{}` directly and 500 batched (`@Body()` undefined).
      expect({ code: entry?.code, body: JSON.stringify(entry?.body) }).toEqual({
        code: direct.status,
        body: directBody,
      });
    },
  );
});
