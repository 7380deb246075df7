import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTestApp, entries, postBatch, type TestApp, withTestApp } from './utils/test-app.js';
import { forEachPlatform } from './utils/platforms.js';
import { GateModule, Gates } from './fixtures/gate.controller.js';
import { BatchEnds, BatchEndsModule, until } from './utils/wait-for.js';

forEachPlatform(() => {
  describe('operations that depend on others', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp();
    });
    afterAll(() => t.close());
    beforeEach(() => t.recorder.reset());

    it('substitute references in url, headers and body', async () => {
      const response = await postBatch(t, [
        { method: 'POST', url: '/items', name: 'create', body: { name: 'a b', qty: 2 } },
        { method: 'GET', url: '/items/{result=create:$.id}' },
        {
          method: 'POST',
          url: '/echo?name={result=create:$.name}',
          headers: { 'x-item': 'item-{result=create:$.id}' },
          body: {
            id: '{result=create:$.id}',
            item: '{result=create:$}',
            label: '#{result=create:$.id}',
          },
        },
      ]).expect(200);
      const [created, fetched, echo] = entries(response);
      const id = created?.body.id as number;
      expect(fetched).toMatchObject({ url: `/items/${id}`, code: 200, body: { id, name: 'a b' } });
      expect(echo?.url).toBe('/echo?name=a%20b');
      expect(echo?.body.query).toEqual({ name: 'a b' });
      expect(echo?.body.headers['x-item']).toBe(`item-${id}`);
      expect(echo?.body.body).toEqual({ id, item: { id, name: 'a b', qty: 2 }, label: `#${id}` });
    });

    it.each([
      ['its path', '/echo', '/echo?via=ref'],
      ['its path, an absolute url', 'https://elsewhere.example/echo', '/echo?via=ref'],
    ])('put a Location header into a url by %s', async (_case, to, url) => {
      const response = await postBatch(t, [
        { method: 'POST', url: '/located', name: 'made', body: { to } },
        { method: 'GET', url: '/{result=made:@location}?via=ref' },
      ]).expect(200);
      expect(entries(response)[1]).toMatchObject({ code: 200, url });
    });

    it('refuse a Location with a query as a path to extend: the rest would land in its query', async () => {
      const response = await postBatch(t, [
        { method: 'POST', url: '/located', name: 'made', body: { to: '/echo?id=7' } },
        { method: 'GET', url: '/{result=made:@location}/tail' },
      ]).expect(200);
      expect(entries(response)[1]?.code).toBe(400);
      expect(entries(response)[1]?.body.message).toMatch(/Location of "made" has a query/);
      expect(t.recorder.count('echo')).toBe(0);
    });

    it('join several matches with commas', async () => {
      await t.http.post('/items').send({ name: 'many' });
      await t.http.post('/items').send({ name: 'many' });
      const response = await postBatch(t, [
        { method: 'GET', url: '/items?name=many', name: 'list' },
        { method: 'GET', url: '/echo?ids={result=list:$.*.id}', body: undefined },
        { method: 'POST', url: '/echo', body: { ids: '{result=list:$.*.id}' } },
      ]);
      const [list, inUrl, inBody] = entries(response);
      const ids = (list?.body as { id: number }[]).map((item) => item.id);
      expect(ids.length).toBeGreaterThanOrEqual(2);
      expect(inUrl?.body.query.ids).toBe(ids.join(','));
      expect(inBody?.body.body.ids).toEqual(ids);
    });

    it('start a dependent only after its dependency ended, while independent ones overlap', async () => {
      await withTestApp({ imports: [GateModule] }, async (app) => {
        const gates = app.app.get(Gates);
        const batch = postBatch(app, [
          { method: 'GET', url: '/gate/first', name: 'first' },
          { method: 'GET', url: '/gate/after', dependsOn: ['first'] },
          { method: 'GET', url: '/gate/free' },
        ]).then((response) => response);
        // Awaited below; should an assertion fail first, the app's close resets it unheard.
        batch.catch(() => undefined);
        // `free` runs while `first` is held; `after` waits for `first` to end.
        await until(() => gates.arrived.length >= 2, 'first and free at the gate');
        expect([...gates.arrived].sort()).toEqual(['first', 'free']);
        gates.releaseOldest();
        gates.releaseOldest();
        await until(() => gates.arrived.length === 3, 'after started');
        gates.releaseOldest();
        const response = await batch;
        expect(entries(response).map((entry) => entry?.code)).toEqual([200, 200, 200]);
        expect(gates.log.indexOf('passed first')).toBeLessThan(gates.log.indexOf('arrived after'));
      });
    });

    it('do not run when a dependency failed: 424 down the chain, naming the dependency', async () => {
      const response = await postBatch(t, [
        { method: 'GET', url: '/boom', name: 'root' },
        { method: 'GET', url: '/echo', name: 'child', dependsOn: ['root'] },
        { method: 'GET', url: '/echo?x={result=child:$.method}', name: 'grandchild' },
        { method: 'GET', url: '/echo', name: 'unrelated' },
      ]).expect(200);
      const [root, child, grandchild, unrelated] = entries(response);
      expect(root?.code).toBe(500);
      expect(child).toMatchObject({
        code: 424,
        body: {
          statusCode: 424,
          error: 'Failed Dependency',
          failedDependency: 0,
          message:
            'operation 1 ("child") was not run: its dependency operation 0 ("root") answered 500',
        },
      });
      expect(grandchild?.code).toBe(424);
      expect(grandchild?.body.message).toMatch(
        /dependency operation 1 \("child"\) was not run either/,
      );
      expect(unrelated?.code).toBe(200);
      expect(t.recorder.count('echo')).toBe(1);
    });

    it('treat a 4xx dependency as failed too', async () => {
      const response = await postBatch(t, [
        { method: 'GET', url: '/items/999999', name: 'missing' },
        { method: 'DELETE', url: '/items/{result=missing:$.id}' },
      ]);
      expect(entries(response).map((entry) => entry?.code)).toEqual([404, 424]);
      expect(t.recorder.count('items.remove')).toBe(0);
    });

    it('refuse an operation whose reference matches nothing, without running it', async () => {
      const response = await postBatch(t, [
        { method: 'POST', url: '/items', name: 'create', body: { name: 'x' } },
        { method: 'DELETE', url: '/items/{result=create:$.nope}', name: 'remove' },
        { method: 'GET', url: '/echo', dependsOn: ['remove'] },
      ]);
      const [, remove, after] = entries(response);
      expect(remove?.code).toBe(400);
      expect(remove?.body.message).toBe(
        'operation 1 ("remove"): reference {result=create:$.nope} matched nothing in the response of "create"',
      );
      expect(after?.code).toBe(424);
      expect(t.recorder.count('items.remove')).toBe(0);
      expect(t.recorder.count('echo')).toBe(0);
    });

    it('refuse a referenced value that would inject a header line', async () => {
      const response = await postBatch(t, [
        { method: 'POST', url: '/echo', name: 'evil', body: { v: 'a\r\nx-injected: 1' } },
        { method: 'GET', url: '/echo', headers: { 'x-v': '{result=evil:$.body.v}' } },
      ]);
      expect(entries(response)[1]?.code).toBe(400);
      expect(t.recorder.count('echo')).toBe(1);
    });

    it('give null for a successful operation that asked to be omitted, the entry when it failed', async () => {
      const response = await postBatch(t, [
        {
          method: 'POST',
          url: '/items',
          name: 'create',
          body: { name: 'o' },
          omitResponseOnSuccess: true,
        },
        { method: 'GET', url: '/items/{result=create:$.id}' },
        { method: 'GET', url: '/boom', omitResponseOnSuccess: true },
      ]);
      const [created, fetched, failed] = entries(response);
      expect(created).toBeNull();
      expect(fetched?.code).toBe(200);
      expect(failed?.code).toBe(500);
    });

    it('refuse a plan problem before anything runs', async () => {
      await postBatch(t, [
        { method: 'POST', url: '/items', name: 'a', body: { name: 'x' }, dependsOn: ['c'] },
        { method: 'POST', url: '/items', name: 'b', body: { name: '{result=a:$.id}' } },
        { method: 'POST', url: '/items', name: 'c', dependsOn: ['b'] },
        { method: 'POST', url: '/items', name: 'free', body: { name: 'y' } },
      ]).expect(400);
      expect(t.recorder.count('items.create')).toBe(0);
    });
  });

  describe('timeouts', () => {
    it('send a partial batch at the batch timeout: finished entries filled, the rest null, unstarted never start', async () => {
      await withTestApp(
        { batch: { timeout: 300, concurrency: 2 }, imports: [BatchEndsModule, GateModule] },
        async (t) => {
          const ends = t.app.get(BatchEnds);
          const gates = t.app.get(Gates);
          // `long` waits at a gate the test opens only once the reply is in: without the
          // timeout, this reply would never come.
          const response = await postBatch(t, [
            { method: 'GET', url: '/slow/20?tag=quick' },
            { method: 'GET', url: '/hang' },
            { method: 'GET', url: '/gate/long' },
            { method: 'GET', url: '/echo' },
          ]).expect(200);
          const [quick, hang, long, queued] = entries(response);
          expect(quick?.code).toBe(200);
          expect([hang, long, queued]).toEqual([null, null, null]);
          // The reply came while `long` was held, started in the slot `quick` freed.
          expect(gates.arrived).toEqual(['long']);
          expect(gates.passed).toEqual([]);
          // The batch ended with three operations unanswered, the queued `/echo` among them.
          expect(await ends.next()).toMatchObject({ end: 'timed-out', finished: 1, unfinished: 3 });
          // Once the abandoned `long` has returned, its slot is free: the queue would have
          // moved on to `/echo` then. A request of its own after that, the only `/echo` there is.
          gates.releaseOldest();
          await until(() => gates.passed.length === 1, 'the abandoned operation returned');
          await t.http.get('/echo').expect(200);
          expect(t.recorder.count('echo')).toBe(1);
        },
      );
    });

    it('give an operation past operationTimeout a 504 and its dependents a 424', async () => {
      await withTestApp({ batch: { operationTimeout: 150 } }, async (t) => {
        const response = await postBatch(t, [
          { method: 'GET', url: '/hang', name: 'stuck' },
          { method: 'GET', url: '/echo', dependsOn: ['stuck'] },
          { method: 'GET', url: '/slow/20' },
        ]).expect(200);
        const [stuck, dependent, fine] = entries(response);
        expect(stuck).toMatchObject({
          code: 504,
          body: { message: 'operation 0 ("stuck") took longer than 150 ms' },
        });
        expect(dependent?.code).toBe(424);
        expect(fine?.code).toBe(200);
        expect(t.recorder.count('echo')).toBe(0);
      });
    });
  });

  describe('a client that disconnects mid-batch', () => {
    it('leaves operations not yet started unstarted', async () => {
      await withTestApp({ batch: { concurrency: 1 }, imports: [BatchEndsModule] }, async (t) => {
        const ends = t.app.get(BatchEnds);
        const { port } = t.app.getHttpServer().address() as AddressInfo;
        const payload = JSON.stringify({
          data: [
            { method: 'GET', url: '/slow/200' },
            ...Array.from({ length: 5 }, () => ({ method: 'GET', url: '/echo' })),
          ],
        });
        const req = httpRequest({
          port,
          host: '127.0.0.1',
          method: 'POST',
          path: '/batch',
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(payload),
          },
        });
        req.on('error', () => undefined);
        req.end(payload);
        await until(() => t.recorder.count('slow') === 1, 'the first operation started');
        req.destroy();
        expect(await ends.next()).toMatchObject({ end: 'aborted', unfinished: 6 });
        // The abandoned `/slow/200` ends in its own time; the queue would move on after it.
        await until(() => t.recorder.inFlight === 0, 'the started operation returned');
        await t.http.get('/echo').expect(200);
        expect(t.recorder.count('echo')).toBe(1);
      });
    });
  });
});
