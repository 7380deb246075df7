import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { userDocSnippets, type Snippet } from './markdown.snippets.js';

/*
 * Every TypeScript block of README.md and docs/ compiles against the built package (dist/, by
 * the package's name, as an app imports it); a named one that exports an AppModule boots on
 * Express and on Fastify and answers a batch. A block that cannot says why in the doc
 * (`<!-- not-run: ... -->` above it).
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
/** Inside the repository, so `nestjs-batch` resolves to the package itself (its `exports`). */
const out = join(root, 'test/docs/.compiled');
const run = promisify(execFile);

const snippets = userDocSnippets(root);
const typescript = snippets.filter((s) => ['ts', 'typescript'].includes(s.lang) && !s.notRun);

const fileOf = (snippet: Snippet): string =>
  join(out, `${snippet.file.replace(/[/.]/g, '_')}_${snippet.line}.ts`);

const OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  strict: true,
  experimentalDecorators: true,
  emitDecoratorMetadata: true,
  skipLibCheck: true,
  noEmit: true,
  types: ['node'],
};

beforeAll(() => {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  for (const snippet of typescript) writeFileSync(fileOf(snippet), `${snippet.code}\n`);
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('the documentation snippets', () => {
  it('are found in README.md and docs/', () => {
    expect(typescript.length).toBeGreaterThan(5);
  });

  it('say why when they are not run', () => {
    for (const snippet of snippets.filter((s) => s.notRun !== undefined)) {
      expect({ where: snippet.where, why: snippet.notRun }).toEqual({
        where: snippet.where,
        why: expect.stringMatching(/\w{3,}/),
      });
    }
  });

  it('in JSON parse, unless they show an output shortened with `...` and say so', () => {
    const unparsable = snippets
      .filter((s) => s.lang === 'json' && s.notRun === undefined && s.outputOf === undefined)
      .filter((s) => {
        try {
          JSON.parse(s.code);
          return false;
        } catch {
          return true;
        }
      })
      .map((s) => s.where);
    expect(unparsable).toEqual([]);
  });

  it('in shell are run (named), or say why not', () => {
    const unaccounted = snippets
      .filter((s) => ['bash', 'sh', 'shell'].includes(s.lang))
      .filter((s) => s.name === undefined && s.notRun === undefined)
      .map((s) => s.where);
    expect(unaccounted).toEqual([]);
  });

  it('in TypeScript compile against the built package, as printed', () => {
    const program = ts.createProgram(typescript.map(fileOf), OPTIONS);
    const problems = ts.getPreEmitDiagnostics(program).map((diagnostic) => {
      const file = diagnostic.file?.fileName ?? '';
      const snippet = typescript.find((s) => fileOf(s) === file);
      const at =
        diagnostic.file && diagnostic.start !== undefined
          ? diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start).line + 1
          : 0;
      const line = snippet ? `${snippet.file}:${snippet.line + at}` : file;
      return `${line}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`;
    });
    expect(problems).toEqual([]);
  });

  const apps = typescript.filter(
    (s) => s.name !== undefined && /export class AppModule\b/.test(s.code),
  );

  it('that are named apps are there to be run', () => {
    expect(apps.map((s) => s.name)).toEqual(
      expect.arrayContaining(['quick-start', 'for-root-async']),
    );
  });

  describe.each(['express', 'fastify'])('on %s', (platform) => {
    it.each(apps.map((s) => [s.name as string, s] as const))(
      '%s boots and answers a batch',
      async (_name, snippet) => {
        const file = fileOf(snippet).replace(/\.ts$/, '.js');
        const { outputText } = ts.transpileModule(snippet.code, {
          // An ES module, as the package's `type` makes every .js file here.
          compilerOptions: { ...OPTIONS, module: ts.ModuleKind.ESNext, noEmit: false },
        });
        writeFileSync(file, outputText);
        const request = snippet.name === 'atomic-groups' ? ATOMIC_BATCH : PLAIN_BATCH;
        const { stdout } = await run(
          process.execPath,
          [join(root, 'test/docs/boot-snippet.mjs'), file],
          {
            cwd: root,
            env: {
              ...process.env,
              PLATFORM: platform,
              REQUEST: JSON.stringify(request),
              BATCH_LIMIT: '20',
            },
          },
        );
        const reply = JSON.parse(stdout) as { status: number; body: { data: unknown[] } };
        expect(reply.status).toBe(200);
        expect(reply.body.data).toHaveLength(request.data.length);
      },
      30_000,
    );
  });
});

const PLAIN_BATCH = {
  data: [
    { method: 'GET', url: '/' },
    { method: 'GET', url: '/nothing' },
  ],
};
/** A group needs the transaction hook: without it, the batch is a 400. */
const ATOMIC_BATCH = {
  data: [
    { method: 'GET', url: '/', atomicityGroup: 'g' },
    { method: 'GET', url: '/', dependsOn: ['g'] },
  ],
};
