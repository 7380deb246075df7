import { VersionedDocsModule } from './fixtures/versioned-docs.fixtures.js';
import { forEachPlatform } from './utils/platforms.js';
import { entries, postBatch, useTestApp } from './utils/test-app.js';

forEachPlatform(() => {
  describe("references to a response's status and headers", () => {
    const t = useTestApp({ imports: [VersionedDocsModule] });

    it('chain writes in one batch: the Location to address, the ETag for If-Match', async () => {
      const reply = await postBatch(t, [
        { method: 'POST', url: '/docs', name: 'create', body: { text: 'a' } },
        {
          method: 'PUT',
          url: '/{result=create:@location}',
          name: 'edit',
          headers: { 'if-match': '{result=create:@header.ETag}' },
          body: { text: 'b' },
        },
        {
          method: 'PUT',
          url: '/docs/{result=create:$.id}',
          headers: { 'if-match': '{result=edit:@header.etag}' },
          body: { text: 'c', created: '{result=create:@status}', seen: 'as {result=edit:@status}' },
        },
      ]).expect(200);
      const [created, edited, again] = entries(reply);
      expect(created).toMatchObject({ code: 201, headers: { etag: '"1"' } });
      expect(edited).toMatchObject({ code: 200, body: { version: 2, text: 'b' } });
      expect(again).toMatchObject({ code: 200, body: { version: 3, text: 'c' } });
    });

    it('keep a status its JSON type where a body string is exactly the reference', async () => {
      const reply = await postBatch(t, [
        { method: 'POST', url: '/docs', name: 'create', body: { text: 'a' } },
        {
          method: 'POST',
          url: '/echo?code={result=create:@status}',
          body: { code: '{result=create:@status}', tag: '{result=create:@header.etag}' },
        },
      ]).expect(200);
      expect(entries(reply)[1]?.body).toMatchObject({
        query: { code: '201' },
        body: { code: 201, tag: '"1"' },
      });
    });

    it('give a 400 entry for a header the response did not have, without running the operation', async () => {
      const reply = await postBatch(t, [
        { method: 'POST', url: '/docs', name: 'create', body: { text: 'a' } },
        { method: 'GET', url: '/echo', headers: { 'x-tag': '{result=create:@header.x-missing}' } },
      ]).expect(200);
      expect(entries(reply)[1]).toMatchObject({ code: 400 });
      expect(entries(reply)[1]?.body).toMatchObject({
        reason: 'render-failed',
        message:
          'operation 1: reference {result=create:@header.x-missing} matched nothing in the response of "create"',
      });
      expect(t.recorder.count('echo')).toBe(0);
    });

    it('hold a referenced header to the header caps of a request of its own', async () => {
      const reply = await postBatch(t, [
        { method: 'POST', url: '/docs/tag/20000', name: 'big' },
        { method: 'GET', url: '/echo', headers: { 'if-match': '{result=big:@header.etag}' } },
      ]).expect(200);
      expect(entries(reply)[1]).toMatchObject({ code: 400 });
      expect(JSON.stringify(entries(reply)[1]?.body)).toMatch(/headers take more than \d+ bytes/);
      expect(t.recorder.count('echo')).toBe(0);
    });

    it('refuse the batch for a part of a response that is not one, or a cookie', async () => {
      for (const path of ['@etag', '@header.set-cookie']) {
        const reply = await postBatch(t, [
          { method: 'POST', url: '/docs', name: 'create', body: { text: 'a' } },
          { method: 'GET', url: `/echo?x={result=create:${path}}` },
        ]).expect(400);
        expect(JSON.stringify(reply.body)).toMatch(/names no part of a response|cookie jar/);
      }
    });
  });
});
