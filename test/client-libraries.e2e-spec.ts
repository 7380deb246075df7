import axios from 'axios';
import ky from 'ky';
import { createFetch } from 'ofetch';
import createClient from 'openapi-fetch';
import { BatchClient } from 'nestjs-batch/client';
import { forEachPlatform } from './utils/platforms.js';
import { endpointOf, useTestApp } from './utils/test-app.js';

interface Item {
  id: number;
  name: string;
  qty: number;
}

/** The part of the fixture API openapi-fetch is typed with, as openapi-typescript writes it. */
interface paths {
  '/items': {
    post: {
      requestBody: { content: { 'application/json': { name: string; qty?: number } } };
      responses: { 201: { content: { 'application/json': Item } } };
    };
  };
  '/items/{id}': {
    get: {
      parameters: { path: { id: number } };
      responses: { 200: { content: { 'application/json': Item } } };
    };
  };
}

forEachPlatform(() => {
  describe('client.fetch as the fetch of HTTP client libraries', () => {
    const t = useTestApp();
    const batchRequests = (): number => t.recorder.count('middleware POST /batch');
    const base = (): string => endpointOf(t).replace('/batch', '');
    const client = (): BatchClient => new BatchClient({ endpoint: endpointOf(t) });

    /** Creates two items directly, for the libraries to read. */
    async function twoItems(): Promise<[Item, Item]> {
      const make = async (name: string): Promise<Item> =>
        (await fetch(`${base()}/items`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ name }),
        }).then((r) => r.json())) as Item;
      return [await make('a'), await make('b')];
    }

    it('openapi-fetch: typed calls made together go out as one batch', async () => {
      const [a, b] = await twoItems();
      const api = createClient<paths>({ baseUrl: base(), fetch: client().fetch });
      const [first, second, created] = await Promise.all([
        api.GET('/items/{id}', { params: { path: { id: a.id } } }),
        api.GET('/items/{id}', { params: { path: { id: b.id } } }),
        api.POST('/items', { body: { name: 'c', qty: 2 } }),
      ]);
      expect([first.data, second.data]).toEqual([a, b]);
      expect(created.response.status).toBe(201);
      expect(created.data).toMatchObject({ name: 'c', qty: 2 });
      expect(batchRequests()).toBe(1);
    });

    it('ky: calls made together go out as one batch; an error status throws HTTPError', async () => {
      const [a, b] = await twoItems();
      const api = ky.create({ prefixUrl: base(), fetch: client().fetch, retry: 0 });
      const [first, second, missing] = await Promise.allSettled([
        api.get(`items/${a.id}`).json<Item>(),
        api.get(`items/${b.id}`).json<Item>(),
        api.get('items/999999').json<Item>(),
      ]);
      expect(first).toEqual({ status: 'fulfilled', value: a });
      expect(second).toEqual({ status: 'fulfilled', value: b });
      expect(missing).toMatchObject({ status: 'rejected', reason: { name: 'HTTPError' } });
      expect(batchRequests()).toBe(1);
    });

    it('ofetch: calls made together go out as one batch, bodies parsed', async () => {
      const [a, b] = await twoItems();
      const $fetch = createFetch({ fetch: client().fetch });
      const [first, second, created] = await Promise.all([
        $fetch<Item>(`/items/${a.id}`, { baseURL: base() }),
        $fetch<Item>(`/items/${b.id}`, { baseURL: base() }),
        $fetch<Item>('/items', { baseURL: base(), method: 'POST', body: { name: 'c' } }),
      ]);
      expect([first, second]).toEqual([a, b]);
      expect(created).toMatchObject({ name: 'c' });
      expect(batchRequests()).toBe(1);
    });

    it("axios's fetch adapter: calls made together go out as one batch", async () => {
      const [a, b] = await twoItems();
      const api = axios.create({
        baseURL: base(),
        adapter: 'fetch',
        env: { fetch: client().fetch },
      });
      const [first, second, created] = await Promise.all([
        api.get<Item>(`/items/${a.id}`),
        api.get<Item>(`/items/${b.id}`),
        api.post<Item>('/items', { name: 'c' }),
      ]);
      expect([first.data, second.data]).toEqual([a, b]);
      expect(created.status).toBe(201);
      expect(created.data).toMatchObject({ name: 'c' });
      expect(batchRequests()).toBe(1);
    });
  });
});
