/**
 * client.fetch in Node with a request header whose name starts with `Sec-` (an app's own, as
 * `Sec-Api-Key`). Node's fetch sends it; a browser's Request drops it, and the server refuses it
 * in an operation. Before the fix client.fetch dropped it without a word, and an authenticated
 * call went out unauthenticated: such a call now goes to the underlying fetch, as it is.
 */
import { BatchClient } from 'nestjs-batch/client';
import { forEachPlatform } from './utils/platforms.js';
import { endpointOf, useTestApp } from './utils/test-app.js';

forEachPlatform(() => {
  const t = useTestApp();

  it('client.fetch in Node sends a Sec- header of the call, as fetch does (or refuses the call)', async () => {
    const init = { headers: { 'sec-api-key': 'k-123' } };
    const direct = (await (await fetch(endpointOf(t, '/echo'), init)).json()) as {
      headers: Record<string, string>;
    };
    expect(direct.headers['sec-api-key']).toBe('k-123');
    const response = await new BatchClient({ endpoint: endpointOf(t) }).fetch('/echo', init);
    const batched = (await response.json()) as { headers: Record<string, string> };
    expect(batched.headers['sec-api-key']).toBe('k-123');
  });
});
