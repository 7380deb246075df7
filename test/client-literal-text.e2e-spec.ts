/**
 * Text a page sends that holds `{result=` (a user's note, a template, a snippet in a doc) is
 * data: sent directly, the app gets it as written. `client.fetch` carried it into the batch as
 * it was, where the server reads `{result=NAME:PATH}` as a reference: the whole batch was
 * refused (every call made beside it rejected), or, when the text named a call of the batch, the
 * app stored that call's answer in place of the user's words. The client's own references were
 * named `~<client>.<call>`, counters a text could guess.
 */
import { BatchClient } from 'nestjs-batch/client';
import { forEachPlatform } from './utils/platforms.js';
import { endpointOf, useTestApp } from './utils/test-app.js';

/** What `/echo` answers: what reached the app. */
interface Echoed {
  body: unknown;
  query: Record<string, unknown>;
  headers: Record<string, string>;
}

const NOTE = 'Reply with {result=yes} or {result=no}';

forEachPlatform(() => {
  const t = useTestApp();
  const client = (): BatchClient => new BatchClient({ endpoint: endpointOf(t) });
  const direct = async (path: string, init?: RequestInit): Promise<Echoed> =>
    (await (await fetch(endpointOf(t, path), init)).json()) as Echoed;
  const echoed = async (response: Promise<Response>): Promise<Echoed> =>
    (await (await response).json()) as Echoed;

  it('gives the app a JSON body holding "{result=" as written, and answers the call made beside it', async () => {
    const init = {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ note: NOTE }),
    };
    const batching = client();
    const [note, other] = await Promise.allSettled([
      echoed(batching.fetch('/echo', init)),
      echoed(batching.fetch('/echo?other=1')),
    ]);
    expect(note).toEqual({ status: 'fulfilled', value: expect.anything() });
    expect((note as PromiseFulfilledResult<Echoed>).value.body).toEqual(
      (await direct('/echo', init)).body,
    );
    expect(other).toMatchObject({ status: 'fulfilled', value: { query: { other: '1' } } });
  });

  it('gives the app a text body holding "{result=" byte for byte', async () => {
    const init = { method: 'POST', headers: { 'content-type': 'text/plain' }, body: NOTE };
    const batched = await echoed(client().fetch('/echo', init));
    expect(batched.body).toEqual((await direct('/echo', init)).body);
  });

  it("stores the user's text beside a reference of the client's own, not another call's answer it names", async () => {
    const batching = client();
    const me = batching.fetch('/echo?user=ada&token=secret');
    // A text that names the client's first call as the counters named it.
    const text = 'hi {result=~1.1:$.query.token} {result=~2.1:$.query.token}';
    const comment = batching.fetch('/echo', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ author: me.ref('$.query.user'), text }),
    });
    expect((await echoed(comment)).body).toEqual({ author: 'ada', text });
    await me;
  });

  it('gives the app a query holding "{result=" with the value a direct request gives', async () => {
    const path = '/echo?q={result=x}&r=%7Bresult=y%7D';
    const batched = await echoed(client().fetch(path));
    expect(batched.query).toEqual((await direct(path)).query);
  });

  it('gives the app a header holding "{result=" as written', async () => {
    const init = { headers: { 'x-note': NOTE } };
    const batched = await echoed(client().fetch('/echo', init));
    expect(batched.headers['x-note']).toBe((await direct('/echo', init)).headers['x-note']);
  });

  it("sends a value the client substituted itself as text, when it holds '{result='", async () => {
    const batching = client();
    const note = batching.fetch(`/echo?note=${encodeURIComponent(NOTE)}`);
    await note;
    // Sent after the call it reads: the client substitutes the value, then sends the call.
    const [body, header] = await Promise.all([
      echoed(
        batching.fetch('/echo', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ copy: note.ref('$.query.note') }),
        }),
      ),
      echoed(batching.fetch('/echo', { headers: { 'x-note': note.ref('$.query.note') } })),
    ]);
    expect(body.body).toEqual({ copy: NOTE });
    expect(header.headers['x-note']).toBe(NOTE);
  });
});
