import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { itNeeding } from '../utils/system-package.js';
import { userDocSnippets } from './markdown.snippets.js';

/*
 * The curls of docs/ named `sample-...` run against the sample app (as `npm start` serves it),
 * on Express and on Fastify, and print what the `<!-- output: NAME -->` block below them shows.
 * `{...}` and `[...]` in a printed output stand for any value; NDJSON lines may come in any
 * order (completion order), so they are compared by `index`.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const out = join(root, 'test/docs/.compiled-sample');
const run = promisify(execFile);

const snippets = userDocSnippets(root);
const curls = snippets.filter((s) => s.name?.startsWith('sample-') && s.lang === 'bash');
/** Native batches (`json`) named `sample-...`: posted to the sample's `/batch` as they are. */
const batches = snippets.filter((s) => s.name?.startsWith('sample-') && s.lang === 'json');
const outputOf = (name: string): string | undefined =>
  snippets.find((s) => s.outputOf === name)?.code;

const itWithCurl = itNeeding(
  spawnSync('sh', ['-c', 'command -v curl']).status === 0,
  'apt-get install curl',
);

const ANY = '\u0000any';
/** A printed line, its `{...}` and `[...]` read as "any value". */
function expected(line: string): unknown {
  return JSON.parse(
    line.replaceAll('{...}', JSON.stringify(ANY)).replaceAll('[...]', JSON.stringify(ANY)),
  );
}
function matcher(value: unknown): unknown {
  if (value === ANY) return expect.anything();
  if (Array.isArray(value)) return value.map(matcher);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, matcher(v)]));
  }
  return value;
}
const byIndex = (lines: unknown[]): unknown[] =>
  [...lines].sort((a, b) => (a as { index: number }).index - (b as { index: number }).index);

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

async function startSample(platform: string): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(out, 'main.js')], {
    cwd: root,
    env: { ...process.env, PORT: String(port), SAMPLE_PLATFORM: platform },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let seen = '';
  for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
    seen += chunk.toString();
    if (seen.includes('listening')) break;
  }
  return { port, child };
}

beforeAll(async () => {
  // The sample as `npm run build:sample` builds it, in a directory of the suite's own.
  await run(
    process.execPath,
    [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'sample/tsconfig.json', '--outDir', out],
    {
      cwd: root,
    },
  );
}, 120_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('the curls of docs/ against the sample app', () => {
  it('are found', () => {
    expect(curls.map((s) => s.name)).toContain('sample-ndjson');
    expect(batches.map((s) => s.name)).toEqual(
      expect.arrayContaining(['sample-native', 'sample-references']),
    );
  });

  describe.each(['express', 'fastify'])('on %s', (platform) => {
    itWithCurl.each(curls.map((s) => [s.name as string, s] as const))(
      '%s prints what the doc shows',
      async (name, snippet) => {
        const { port, child } = await startSample(platform);
        try {
          const { stdout } = await run('bash', [
            '-c',
            snippet.code.replaceAll('localhost:3000', `127.0.0.1:${port}`),
          ]);
          const printed = stdout
            .trim()
            .split('\n')
            .map((line) => JSON.parse(line) as unknown);
          const shown = (outputOf(name) ?? '').trim().split('\n').map(expected);
          expect(byIndex(printed)).toEqual(matcher(byIndex(shown)));
        } finally {
          child.kill();
          await once(child, 'exit');
        }
      },
      30_000,
    );

    it.each(batches.map((s) => [s.name as string, s] as const))(
      '%s, posted as a native batch, answers what the doc shows',
      async (name, snippet) => {
        const { port, child } = await startSample(platform);
        try {
          const response = await fetch(`http://127.0.0.1:${port}/batch`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: snippet.code,
          });
          expect(response.status).toBe(200);
          const reply = (await response.json()) as { data: ({ code: number } | null)[] };
          const shown = outputOf(name);
          // Without an output shown, the example is one that works: every entry 2xx.
          if (shown === undefined) {
            expect(reply.data.map((entry) => (entry?.code ?? 0) < 300)).not.toContain(false);
          } else expect(reply).toEqual(matcher(expected(shown.replace(/\s*\n\s*/g, ''))));
        } finally {
          child.kill();
          await once(child, 'exit');
        }
      },
      30_000,
    );
  });
});
