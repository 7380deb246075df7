/**
 * A body client.fetch sends as bytes (base64: text holding `{result=`, or text that is
 * not UTF-8) and a 307/308 redirect: fetch sends the same body again to the Location. The client
 * copies the operation's `body` to the redirected request but not its `bodyEncoding`, so the app
 * behind the redirect gets the base64 text in place of the body.
 */
import { BatchClient } from 'nestjs-batch/client';
import { FetchFidelityModule } from './fixtures/fetch-fidelity.fixtures.js';
import { forEachPlatform } from './utils/platforms.js';
import { endpointOf, useTestApp } from './utils/test-app.js';

forEachPlatform(() => {
  const t = useTestApp({ imports: [FetchFidelityModule], strictValidation: false });
  const read = async (response: Response): Promise<{ status: number; body: unknown }> => ({
    status: response.status,
    body: await response.json(),
  });

  for (const code of [307, 308]) {
    it(`a text body holding "{result=" follows a ${code} with its bytes`, async () => {
      const init: RequestInit = {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ note: 'Reply with {result=yes}' }),
      };
      const path = `/fidelity/redirect/${code}`;
      const direct = await read(await fetch(endpointOf(t, path), init));
      expect(direct.body).toMatchObject({
        from: 'redirect',
        body: { note: 'Reply with {result=yes}' },
      });
      const client = new BatchClient({ endpoint: endpointOf(t) });
      // Directly: the echo route gets { note: ... }. Batched: it gets the base64 of the JSON
      // as a JSON string ("eyJub3RlIjoi..."), or a 400 from the JSON parser.
      expect(await read(await client.fetch(path, init))).toEqual(direct);
    });

    it(`a Latin-1 form follows a ${code} with its bytes`, async () => {
      // A fresh body for each fetch: a Uint8Array body is detached once sent.
      const init = (): RequestInit => ({
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded; charset=iso-8859-1' },
        body: new Uint8Array([...Buffer.from('name=caf'), 0xe9]),
      });
      const path = `/fidelity/redirect/${code}`;
      // Node's fetch fails to resend a Uint8Array body on a 307 (it detached it): what a browser
      // sends then is the same POST to the Location.
      const direct = await read(await fetch(endpointOf(t, '/fidelity/echo?from=redirect'), init()));
      const client = new BatchClient({ endpoint: endpointOf(t) });
      expect(await read(await client.fetch(path, init()))).toEqual(direct);
    });
  }
});
