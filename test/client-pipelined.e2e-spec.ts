import { BatchClient, type PipelinedResponse } from 'nestjs-batch/client';
import { VersionedDocsModule } from './fixtures/versioned-docs.fixtures.js';
import { forEachPlatform } from './utils/platforms.js';
import { endpointOf, useTestApp, type TestApp } from './utils/test-app.js';

const json = { 'content-type': 'application/json' };

/** The operations of each batch request a client sent, as the server received them. */
function recording(): { fetch: typeof fetch; batches: Record<string, unknown>[][] } {
  const batches: Record<string, unknown>[][] = [];
  return {
    batches,
    fetch: (input, init) => {
      // Batch requests only: a call sent directly goes through this fetch too.
      if (typeof init?.body === 'string') {
        batches.push((JSON.parse(init.body) as { data: Record<string, unknown>[] }).data);
      }
      return fetch(input, init);
    },
  };
}

/** Uses a compile-time check only: never called. */
export function wrongUsesDoNotCompile(created: PipelinedResponse): void {
  // @ts-expect-error a path starts at the root, $
  created.ref('id');
  // @ts-expect-error no reference reads a cookie
  created.header('set-cookie');
  // @ts-expect-error not in any case either
  created.header('Set-Cookie');
  // @ts-expect-error an ordinary promise has no result to pipeline
  void Promise.resolve(new Response()).ref('$.id');
}

forEachPlatform(() => {
  describe('client.fetch with pipelined calls', () => {
    const t = useTestApp({ imports: [VersionedDocsModule] });
    const batchRequests = (app: TestApp): number => app.recorder.count('middleware POST /batch');
    const base = (): string => endpointOf(t).replace('/batch', '');

    it('sends create, read, update and list written as ordinary calls in one batch request', async () => {
      const sent = recording();
      const client = new BatchClient({ endpoint: endpointOf(t), fetch: sent.fetch });
      const created = client.fetch('/items', {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ name: 'lamp', qty: 1 }),
      });
      const read = client.fetch(`/items/${created.ref('$.id')}`);
      const updated = client.fetch(`${base()}/items/${created.ref('$.id')}`, {
        method: 'PATCH',
        headers: json,
        body: JSON.stringify({ qty: 2 }),
      });
      const listed = client.fetch(`/items?name=${created.ref('$.name')}`, {
        headers: { 'x-after': updated.status() },
      });
      const [a, b, c, d] = await Promise.all([created, read, updated, listed]);
      const item = (await a.json()) as { id: number };
      // Read and update both wait for the create only, so they may run in either order.
      expect(await b.json()).toMatchObject({ id: item.id, name: 'lamp' });
      expect(await c.json()).toEqual({ id: item.id, name: 'lamp', qty: 2 });
      expect(await d.json()).toEqual([{ id: item.id, name: 'lamp', qty: 2 }]);
      expect(batchRequests(t)).toBe(1);
      const [create, readOp, updateOp] = sent.batches[0]!;
      expect(create).toMatchObject({ name: expect.stringMatching(/^~[0-9a-z]+\.\d+$/) });
      // The reference orders it after the create, as in an explicit batch: no dependsOn.
      expect(readOp).toEqual({
        method: 'GET',
        url: `/items/{result=${create!.name as string}:$.id}`,
        // fetch's own, for a call that set none.
        headers: { accept: '*/*' },
      });
      expect(updateOp).toMatchObject({ name: expect.any(String) });
    });

    it('chains writes by Location and ETag in one batch request, If-Match from the ETag', async () => {
      const client = new BatchClient({ endpoint: endpointOf(t) });
      const created = client.fetch('/docs', {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ text: 'a' }),
      });
      const edited = client.fetch(`/${created.location()}`, {
        method: 'PUT',
        headers: { ...json, 'if-match': created.header('ETag') },
        body: JSON.stringify({ text: 'b' }),
      });
      const again = client.fetch(`/docs/${created.ref('$.id')}`, {
        method: 'PUT',
        headers: { ...json, 'if-match': edited.header('etag') },
        body: JSON.stringify({ text: 'c' }),
      });
      const stale = client.fetch(`/docs/${created.ref('$.id')}`, {
        method: 'PUT',
        headers: { ...json, 'if-match': created.header('etag') },
        body: JSON.stringify({ text: 'late' }),
      });
      const [a, b, c] = await Promise.all([created, edited, again]);
      expect(a.status).toBe(201);
      expect(await b.json()).toMatchObject({ version: 2, text: 'b' });
      expect(await c.json()).toMatchObject({ version: 3, text: 'c' });
      // It ran after the create only: its If-Match may be stale by then, and the app says so.
      expect([200, 412]).toContain((await stale).status);
      expect(batchRequests(t)).toBe(1);
    });

    it('keeps the JSON type of a value that is a whole body string', async () => {
      const client = new BatchClient({ endpoint: endpointOf(t) });
      const created = client.fetch('/docs', {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ text: 'a' }),
      });
      const echoed = client.fetch('/echo', {
        method: 'POST',
        headers: json,
        body: JSON.stringify({
          id: created.ref('$.id'),
          code: created.status(),
          at: `#${created.ref('$.id')}`,
        }),
      });
      const { id } = (await (await created).json()) as { id: number };
      expect(((await (await echoed).json()) as { body: unknown }).body).toEqual({
        id,
        code: 201,
        at: `#${id}`,
      });
      expect(batchRequests(t)).toBe(1);
    });

    it('waits for a call that left in an earlier batch request and substitutes its values', async () => {
      const sent = recording();
      const client = new BatchClient({ endpoint: endpointOf(t), fetch: sent.fetch });
      const created = client.fetch('/docs', {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ text: 'a' }),
      });
      const idOf = created.ref('$.id');
      const etagOf = created.header('etag');
      // The first batch request has left once the recording fetch saw it.
      await new Promise<void>((resolve) => {
        const poll = (): void => (sent.batches.length > 0 ? resolve() : void setImmediate(poll));
        poll();
      });
      const edited = client.fetch(`/docs/${idOf}`, {
        method: 'PUT',
        headers: { ...json, 'if-match': etagOf },
        body: JSON.stringify({ text: 'b', id: idOf }),
      });
      const { id } = (await (await created).json()) as { id: number };
      expect(await (await edited).json()).toEqual({ id, version: 2, text: 'b' });
      expect(sent.batches).toHaveLength(2);
      expect(sent.batches[1]).toEqual([
        {
          method: 'PUT',
          url: `/docs/${id}`,
          headers: { 'content-type': 'application/json', 'if-match': '"1"', accept: '*/*' },
          body: { text: 'b', id },
        },
      ]);
    });

    it('substitutes the values of a call that left in an earlier batch request and resolved', async () => {
      const sent = recording();
      const client = new BatchClient({ endpoint: endpointOf(t), fetch: sent.fetch });
      const created = client.fetch('/docs', {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ text: 'a' }),
      });
      const { id } = (await (await created).json()) as { id: number };
      const edited = client.fetch(`/docs/${created.ref('$.id')}`, {
        method: 'PUT',
        headers: { ...json, 'if-match': created.header('etag') },
        body: JSON.stringify({ text: 'b', id: created.ref('$.id') }),
      });
      expect(await (await edited).json()).toEqual({ id, version: 2, text: 'b' });
      expect(sent.batches[1]).toEqual([
        {
          method: 'PUT',
          url: `/docs/${id}`,
          headers: { 'content-type': 'application/json', 'if-match': '"1"', accept: '*/*' },
          body: { text: 'b', id },
        },
      ]);
    });

    describe('a call sent directly (another origin: not batched)', () => {
      const other = (): string => base().replace('127.0.0.1', 'localhost');

      it.each([
        ['before it resolved', false],
        ['after it resolved and its body was read', true],
      ])(
        'is waited for, its values substituted in url, header and JSON body, referenced %s',
        async (_when, afterwards) => {
          const sent = recording();
          const client = new BatchClient({ endpoint: endpointOf(t), fetch: sent.fetch });
          const created = client.fetch(`${other()}/docs`, {
            method: 'POST',
            headers: json,
            body: JSON.stringify({ text: 'a' }),
          });
          let id: number | undefined;
          if (afterwards) ({ id } = (await (await created).json()) as { id: number });
          const edited = client.fetch(`/docs/${created.ref('$.id')}`, {
            method: 'PUT',
            headers: { ...json, 'if-match': created.header('etag') },
            body: JSON.stringify({ text: 'b', id: created.ref('$.id'), was: created.status() }),
          });
          if (!afterwards) ({ id } = (await (await created).json()) as { id: number });
          expect(await (await edited).json()).toEqual({ id, version: 2, text: 'b' });
          expect(sent.batches).toEqual([
            [
              {
                method: 'PUT',
                url: `/docs/${id}`,
                headers: { 'content-type': 'application/json', 'if-match': '"1"', accept: '*/*' },
                body: { text: 'b', id, was: 201 },
              },
            ],
          ]);
        },
      );

      it('answers 424 when it failed, or its fetch rejected, without sending the dependent', async () => {
        const sent = recording();
        const client = new BatchClient({ endpoint: endpointOf(t), fetch: sent.fetch });
        const missing = client.fetch(`${other()}/docs/999`);
        expect((await missing).status).toBe(404);
        const afterMissing = client.fetch(`/echo?id=${missing.ref('$.id')}`);
        const unreachable = client.fetch('http://127.0.0.1:1/docs');
        const afterUnreachable = client.fetch('/echo', {
          headers: { 'x-tag': unreachable.header('etag') },
        });
        await expect(unreachable).rejects.toThrow();
        expect((await afterMissing).status).toBe(424);
        expect((await afterUnreachable).status).toBe(424);
        expect(sent.batches).toEqual([]);
        expect(t.recorder.count('echo')).toBe(0);
      });
    });

    it('answers 424 for a call whose referenced call failed, in the same batch or later', async () => {
      const client = new BatchClient({ endpoint: endpointOf(t) });
      const missing = client.fetch('/docs/999');
      const inSameWindow = client.fetch(`/docs/${missing.ref('$.id')}`);
      expect((await missing).status).toBe(404);
      expect(await (await inSameWindow).json()).toMatchObject({ failedDependency: 0 });
      expect(batchRequests(t)).toBe(1);
      const afterwards = client.fetch(`/echo?etag=${missing.header('etag')}`);
      expect((await afterwards).status).toBe(424);
      expect(t.recorder.count('echo')).toBe(0);
    });

    it('answers 400 for a value the referenced response does not have', async () => {
      const client = new BatchClient({ endpoint: endpointOf(t), maxBatchSize: 1 });
      const created = client.fetch('/docs', {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ text: 'a' }),
      });
      const [absent, header] = await Promise.all([
        client.fetch(`/echo?x=${created.ref('$.nope')}`),
        client.fetch('/echo', { headers: { 'x-tag': created.header('x-missing') } }),
      ]);
      expect([absent.status, header.status]).toEqual([400, 400]);
    });

    it('refuses paths it could not evaluate, and references no pending call of this client holds', async () => {
      const client = new BatchClient({ endpoint: endpointOf(t) });
      const created = client.fetch('/docs', {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ text: 'a' }),
      });
      expect(() => created.ref('$.items[*].id')).toThrow(/a pipelined path is singular/);
      const other = new BatchClient({ endpoint: endpointOf(t) });
      await expect(other.fetch(`/docs/${created.ref('$.id')}`)).rejects.toThrow(
        /is not a pending call of this client/,
      );
      await created;
    });
  });
});
