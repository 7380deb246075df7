import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { forEachPlatform, type Platform } from './utils/platforms.js';

const run = promisify(execFile);
const fixture = (name: string): string =>
  fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

interface Seen {
  swaggerLoads: boolean;
  /** Times the app asked for @nestjs/swagger before its own probe; set only without it. */
  swaggerRequests?: number;
  described: boolean;
  status: number;
  body: { data: { code: number; body: unknown }[] };
}

/** Runs test/fixtures/openapi-app.mjs (the built package), optionally without @nestjs/swagger. */
async function runApp(
  platform: Platform,
  withoutSwagger: boolean,
  env: Record<string, string> = {},
): Promise<Seen> {
  const { stdout } = await run(
    process.execPath,
    [
      ...(withoutSwagger ? ['--import', fixture('hide-swagger.mjs')] : []),
      fixture('openapi-app.mjs'),
    ],
    { env: { ...process.env, NODE_OPTIONS: '', PLATFORM: platform.name, ...env }, timeout: 15_000 },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as Seen;
}

// @nestjs/swagger is an optional peer: an app that does not have it boots and serves batches as
// before, and the library's attempt to load it costs the app nothing it can see.
forEachPlatform((platform) => {
  describe('an app without @nestjs/swagger', () => {
    it('boots and serves a batch; the endpoint is simply not described', async () => {
      const seen = await runApp(platform, true);
      expect(seen.swaggerLoads).toBe(false);
      // The library did look for it, and went on without it.
      expect(seen.swaggerRequests).toBeGreaterThan(0);
      expect(seen.described).toBe(false);
      expect(seen.status).toBe(200);
      expect(seen.body.data).toEqual([
        expect.objectContaining({ code: 200, body: { hello: 'world' } }),
      ]);
    });

    it('with openApi: false, never even asks for it', async () => {
      const seen = await runApp(platform, true, { OPENAPI: 'false' });
      expect(seen.swaggerRequests).toBe(0);
      expect(seen.status).toBe(200);
    });

    it('is told apart from one with it: the same app, @nestjs/swagger resolvable, is described', async () => {
      const seen = await runApp(platform, false);
      expect(seen.swaggerLoads).toBe(true);
      expect(seen.described).toBe(true);
      expect(seen.status).toBe(200);
    });
  });
});
