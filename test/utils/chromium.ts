import { build } from 'esbuild';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

/**
 * Debian's Chromium (`apt-get install chromium`, as .ci/run does), or CHROMIUM_PATH; `undefined`
 * when there is none: the browser suites are skipped locally and fail in CI.
 */
export function chromiumPath(): string | undefined {
  const path = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  return existsSync(path) ? path : undefined;
}

/** `describe` when Chromium is here; otherwise a skip with the way to install it, or a failure in CI. */
export function describeWithChromium(suite: string): jest.Describe {
  if (chromiumPath()) return describe;
  const hint = `${suite}: no Chromium at /usr/bin/chromium (apt-get install chromium, or set CHROMIUM_PATH)`;
  if (process.env.CI) throw new Error(hint);
  console.warn(`${hint}: suite skipped`);
  return describe.skip;
}

/** A headless Chromium of the test's own, with a fresh profile, on loopback traffic only. */
export interface TestBrowser {
  readonly browser: Browser;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<TestBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'batch-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${profile}`,
    ],
  });
  return {
    browser,
    close: async () => {
      try {
        await browser.close();
      } finally {
        rmSync(profile, { recursive: true, force: true });
      }
    },
  };
}

/**
 * `nestjs-batch/client` bundled for the browser by esbuild, as a front end's build does: one
 * classic script that sets the global `nb` to the client's exports.
 */
export async function bundleClient(): Promise<string> {
  const result = await build({
    entryPoints: [join(dirname(fileURLToPath(import.meta.url)), '../../lib/client/index.ts')],
    bundle: true,
    format: 'iife',
    globalName: 'nb',
    platform: 'browser',
    target: 'chrome120',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

/** One Chromium and the client's bundle for a suite, and a page of its own for each test. */
export interface ClientPages {
  /** The client bundle (`bundleClient`), once the suite's `beforeAll` ran. */
  readonly script: string;
  /** The test's page, in a browser context of its own: no cookie, no cache of another test. */
  readonly page: Page;
  /** Opens `url` on the test's page and waits until the client bundle has set `nb`. */
  open(url: string): Promise<void>;
}

/** Launches Chromium and bundles the client for the suite it is called in (see {@link ClientPages}). */
export function useClientPages(): ClientPages {
  let chromium: TestBrowser | undefined;
  let script = '';
  let page: Page | undefined;
  beforeAll(async () => {
    script = await bundleClient();
    chromium = await launchChromium();
  });
  afterAll(() => chromium?.close());
  beforeEach(async () => {
    if (!chromium) throw new Error('Chromium is launched in beforeAll');
    page = await (await chromium.browser.createBrowserContext()).newPage();
  });
  afterEach(() => page?.browserContext().close());
  const current = (): Page => {
    if (!page) throw new Error('a page is opened in beforeEach');
    return page;
  };
  return {
    get script() {
      return script;
    },
    get page() {
      return current();
    },
    open: async (url) => {
      await current().goto(url);
      await current().waitForFunction(
        () => typeof (globalThis as { nb?: unknown }).nb === 'object',
      );
    },
  };
}
