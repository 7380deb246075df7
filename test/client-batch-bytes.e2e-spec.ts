/**
 * Calls made together that the server's `maxBodyBytes` (1 MiB by default) cannot take in one
 * batch request: sent directly, each is answered; batched, the whole batch was refused (413) and
 * every call made beside them rejected. The client now splits batches by bytes as well as by
 * count, and sends a call too large for any batch with the underlying fetch.
 */
import { BatchClient } from 'nestjs-batch/client';
import { forEachPlatform } from './utils/platforms.js';
import { endpointOf, jsonUpTo, useTestApp } from './utils/test-app.js';

interface Echoed {
  body: unknown;
  query: Record<string, unknown>;
}

forEachPlatform(() => {
  // The app's own JSON parser takes 2 MiB, as an app that takes uploads sets it.
  const t = useTestApp({
    configure: jsonUpTo(2 * 1024 * 1024),
  });
  const batchRequests = (): number => t.recorder.count('middleware POST /batch');
  const post = (text: string): RequestInit => ({
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text }),
  });
  const length = async (response: Promise<Response>): Promise<unknown> => {
    const echoed = (await (await response).json()) as Echoed;
    return (echoed.body as { text?: string } | null)?.text?.length ?? echoed.query;
  };

  it('answers eight calls of 150 KiB made together, each of which fits, in more than one batch', async () => {
    const client = new BatchClient({ endpoint: endpointOf(t) });
    const before = batchRequests();
    const sizes = await Promise.all(
      Array.from({ length: 8 }, () => length(client.fetch('/echo', post('d'.repeat(150_000))))),
    );
    expect(sizes).toEqual(Array.from({ length: 8 }, () => 150_000));
    expect(batchRequests() - before).toBeGreaterThan(1);
  });

  it('sends a call no batch can carry with the underlying fetch, and answers the call beside it', async () => {
    const client = new BatchClient({ endpoint: endpointOf(t) });
    const [upload, beside] = await Promise.all([
      length(client.fetch('/echo', post('u'.repeat(1_200_000)))),
      length(client.fetch('/echo?beside=1')),
    ]);
    expect(upload).toBe(1_200_000);
    expect(beside).toEqual({ beside: '1' });
  });

  it('substitutes the references of a call no batch can carry, then sends it with the underlying fetch', async () => {
    const client = new BatchClient({ endpoint: endpointOf(t) });
    const first = client.fetch('/echo?id=7');
    const upload = client.fetch('/echo', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: first.ref('$.query.id'), text: 'r'.repeat(1_200_000) }),
    });
    const echoed = (await (await upload).json()) as { body: { id: string; text: string } };
    expect({ id: echoed.body.id, length: echoed.body.text.length }).toEqual({
      id: '7',
      length: 1_200_000,
    });
    await first;
  });
});
