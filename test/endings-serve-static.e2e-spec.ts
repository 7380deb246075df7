/**
 * `@nestjs/serve-static`'s SPA fallback when its index file cannot be sent: directly and as an
 * operation the client must see the same thing, and the batch must not wait for its timeout.
 * Tests run as root here, where no permission makes a file unreadable: the index is a link to
 * a file that stats as a regular file and fails on read (EIO), as a disk error would.
 */
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { bodyText, direct, expectedOf, viewOf } from './utils/direct-view.js';
import { startChildApp, type ChildApp } from './utils/child-app.js';
import { forEachPlatform } from './utils/platforms.js';
import type { Entry } from './utils/test-app.js';

const root = mkdtempSync(join(tmpdir(), 'batch-spa-'));
symlinkSync('/proc/self/mem', join(root, 'index.html'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

forEachPlatform((platform) => {
  describe('the SPA fallback of @nestjs/serve-static, its index unreadable', () => {
    let app: ChildApp | undefined;
    beforeAll(async () => {
      // See there why it is a process of its own.
      app = await startChildApp('spa-app.mjs', platform, { ROOT: root });
    });
    afterAll(() => app?.stop());
    const base = (): string => app?.base ?? '';

    const batch = async (data: object[]): Promise<(Entry | null)[]> => {
      const response = await request(base()).post('/batch').send({ data }).expect(200);
      return (response.body as { data: (Entry | null)[] }).data;
    };

    it.each(['/spa/some/route', '/early/some/route'])('%s', async (url) => {
      const seen = await direct(base(), url);
      const [entry, other] = await batch([
        { method: 'GET', url },
        { method: 'GET', url: '/ok' },
      ]);
      expect(viewOf(entry ?? null)).toBe(expectedOf(seen));
      if (seen.kind === 'complete' && entry) expect(bodyText(entry)).toBe(seen.body);
      expect(other?.code).toBe(200);
    });

    it('drops the connection when the index fails after the headers, and the entry says so', async () => {
      expect(await direct(base(), '/early/x')).toEqual({
        kind: 'dropped-after-headers',
        status: 200,
      });
      const [entry] = await batch([{ method: 'GET', url: '/early/x' }]);
      expect(entry).toMatchObject({ code: 502, body: { reason: 'response-aborted' } });
      expect(entry?.body.message).toMatch(/after its headers \(200\)/);
    });

    it('answers an error itself when the index fails before the headers', async () => {
      const seen = await direct(base(), '/spa/x');
      expect(seen.kind).toBe('complete');
      expect(seen.kind === 'complete' && seen.status).toBeGreaterThanOrEqual(400);
    });
  });
});
