/**
 * client.fetch's split by bytes (`maxBatchBytes`) and the calls it sends
 * with the underlying fetch (`sendAlone`).
 */
import { BatchClient } from 'nestjs-batch/client';
import { CacheableModule } from './fixtures/cacheable.fixtures.js';
import { forEachPlatform } from './utils/platforms.js';
import { endpointOf, jsonUpTo, useTestApp } from './utils/test-app.js';

/** `{"data":[` and `]}`. */
const ENVELOPE = 11;
const MiB = 1024 * 1024;

forEachPlatform(() => {
  describe('a referenced call whose operation fills a batch to maxBatchBytes', () => {
    // The app takes uploads up to 2 MiB, as the project's own client-batch-bytes test sets it.
    const t = useTestApp({
      configure: jsonUpTo(2 * 1024 * 1024),
    });

    it('is answered as fetch answers it (the name the reference gives it is not counted: 413 for the whole batch)', async () => {
      // The operation client.fetch makes of the call, without the name a reference adds.
      const shape = (text: string) => ({
        method: 'POST',
        url: '/echo',
        headers: { 'content-type': 'application/json', accept: '*/*' },
        body: JSON.stringify({ text }),
      });
      const empty = Buffer.byteLength(JSON.stringify(shape('')));
      // Exactly the 1 MiB a batch may take, with the envelope: it fits, so it is batched.
      const text = 'x'.repeat(MiB - ENVELOPE - empty);
      expect(ENVELOPE + Buffer.byteLength(JSON.stringify(shape(text)))).toBe(MiB);
      const init: RequestInit = {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text }),
      };

      const direct = await fetch(endpointOf(t, '/echo'), init);
      const directLength = ((await direct.json()) as { body: { text: string } }).body.text.length;

      const client = new BatchClient({ endpoint: endpointOf(t) });
      const upload = client.fetch('/echo', init);
      // A later call reads the upload's answer: the upload now carries a name.
      const next = client.fetch(`/echo?status=${upload.status()}`);
      const settled = await Promise.allSettled([upload, next]);
      const outcome =
        settled[0].status === 'fulfilled'
          ? {
              status: settled[0].value.status,
              length: ((await settled[0].value.json()) as { body: { text: string } }).body.text
                .length,
            }
          : { rejected: String(settled[0].reason) };
      expect(outcome).toEqual({ status: direct.status, length: directLength });
    });
  });

  describe('a GET the HTTP cache revalidates, past maxBatchBytes with its validators', () => {
    const t = useTestApp({ imports: [CacheableModule] });

    it('resolves with the kept response on a 304, as a browser fetch does (it resolved with the bare 304)', async () => {
      const url = `/cacheable/validated?filter=${'f'.repeat(400)}`;
      const operation = { method: 'GET', url, headers: { accept: '*/*' } };
      // Room for the operation, not for the If-None-Match the cache adds to revalidate it.
      const maxBatchBytes = ENVELOPE + Buffer.byteLength(JSON.stringify(operation)) + 8;
      const client = new BatchClient({ endpoint: endpointOf(t), httpCache: true, maxBatchBytes });

      const first = await client.fetch(url);
      expect(first.status).toBe(200);
      const firstBody = await first.json();

      // The cached copy is `no-cache`: revalidated with If-None-Match, answered 304.
      const again = await client.fetch(url);
      expect({ status: again.status, body: await again.text() }).toEqual({
        status: 200,
        body: JSON.stringify(firstBody),
      });
    });
  });
});
