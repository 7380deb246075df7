/**
 * client.fetch of a HEAD: a direct fetch shows the Content-Length the app answered (the size a
 * GET would download; CORS-safelisted, so a page of another origin reads it too), which is what
 * a HEAD is sent for. The server's entry keeps it; before the fix the client's Response dropped
 * it, "as the body was re-encoded", though a HEAD has no body to re-encode.
 */
import { Controller, Get, Module, Res } from '@nestjs/common';
import { BatchClient } from 'nestjs-batch/client';
import { forEachPlatform } from './utils/platforms.js';
import { endpointOf, useTestApp } from './utils/test-app.js';

@Controller('client-head')
class FileController {
  @Get('file')
  file(@Res() res: any): void {
    const raw = res.raw ?? res;
    raw.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '1000' });
    raw.end(Buffer.alloc(1000, 7));
  }
}

@Module({ controllers: [FileController] })
class FileModule {}

forEachPlatform(() => {
  const t = useTestApp({ imports: [FileModule] });

  for (const stream of [true, false]) {
    it(`client.fetch HEAD (stream: ${stream}) shows the Content-Length a direct fetch shows`, async () => {
      const direct = await fetch(endpointOf(t, '/client-head/file'), { method: 'HEAD' });
      expect(direct.headers.get('content-length')).toBe('1000');
      const batched = await new BatchClient({ endpoint: endpointOf(t), stream }).fetch(
        '/client-head/file',
        { method: 'HEAD' },
      );
      expect({ status: batched.status, length: batched.headers.get('content-length') }).toEqual({
        status: direct.status,
        length: direct.headers.get('content-length'),
      });
    });
  }
});
