import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { BATCH_OPTION_DEFAULTS } from 'nestjs-batch';

/** What the docs say that a file of the repository decides: each claim held to its source. */
const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const read = (file: string): string => readFileSync(join(root, file), 'utf8');

describe('the docs agree with what decides', () => {
  it("README's performance figures are bench/results.json's (scripts/readme-figures.mjs)", () => {
    expect(() =>
      execFileSync(process.execPath, [join(root, 'scripts/readme-figures.mjs'), '--check'], {
        stdio: 'pipe',
      }),
    ).not.toThrow();
  });

  it('compatibility.md lists every suite the Nest 11 run leaves out, and no other', async () => {
    const config = pathToFileURL(join(root, 'jest.nest11.config.js')).href;
    const { default: nest11 } = (await import(config)) as {
      default: { testPathIgnorePatterns?: string[] };
    };
    const page = read('docs/compatibility.md');
    const list = page.slice(
      page.indexOf('<!-- nest11-exclusions:start -->'),
      page.indexOf('<!-- nest11-exclusions:end -->'),
    );
    const documented = [...list.matchAll(/`([\w-]+)`/g)].map((match) => match[1]);
    const excluded = (nest11.testPathIgnorePatterns ?? []).filter(
      (pattern) => pattern !== '/node_modules/',
    );
    expect([...documented].sort()).toEqual([...excluded].sort());
  });

  it('docs/options.md lists every option the module takes, and README only rows of it', () => {
    /** `option` -> its whole table row, from the first table of a page. */
    const rows = (file: string): Map<string, string> =>
      new Map(
        [...read(file).matchAll(/^\| `(\w+)` .*\|$/gm)].map((match) => [
          match[1] ?? '',
          match[0].replace(/\s+/g, ' '),
        ]),
      );
    const options = rows('docs/options.md');
    // The module's own extras, fixed at import time, sit beside the resolved options.
    const declared = [...Object.keys(BATCH_OPTION_DEFAULTS), 'path', 'isGlobal'];
    expect([...options.keys()].sort()).toEqual(declared.sort());
    for (const [name, row] of rows('README.md')) {
      expect(options.get(name)?.replace(/\]\([^)]*\)/g, '')).toBe(row.replace(/\]\([^)]*\)/g, ''));
    }
  });

  it("README and compatibility.md give package.json's Node range", () => {
    const { engines } = JSON.parse(read('package.json')) as { engines: { node: string } };
    const bounds = [...engines.node.matchAll(/(\d+)\.(\d+)\.\d+/g)].map((m) => `${m[1]}.${m[2]}`);
    expect(bounds).toEqual(['20.19', '22.12', '24.0']);
    for (const file of ['README.md', 'docs/compatibility.md']) {
      expect(`${file}: ${read(file)}`).toMatch(/20\.19[\s\S]*22\.12[\s\S]*24/);
    }
  });

  it('errors.md names every reason and every exception the library exports', () => {
    const source = ts.createSourceFile(
      'batch.exceptions.ts',
      read('lib/batch.exceptions.ts'),
      ts.ScriptTarget.Latest,
    );
    const reasons = source.statements
      .filter(ts.isTypeAliasDeclaration)
      .filter((alias) =>
        ['BatchRefusalReason', 'BatchEntryFailureReason'].includes(alias.name.text),
      )
      .flatMap((alias) => (alias.type as ts.UnionTypeNode).types)
      .map((literal) => ((literal as ts.LiteralTypeNode).literal as ts.StringLiteral).text);
    const exceptions = [...read('lib/index.ts').matchAll(/\b(\w+Exception)\b/g)].map((m) => m[1]);
    expect(reasons).toContain('rolled-back');
    expect(exceptions).toContain('AtomicGroupsUnavailableException');
    const page = read('docs/errors.md');
    const missing = [...reasons, ...exceptions].filter((name) => !page.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });

  it('every relative link of the docs reaches a file, and a heading when it names one', () => {
    const pages = [
      'README.md',
      'CONTRIBUTING.md',
      'CHANGELOG.md',
      'bench/README.md',
      ...readdirSync(join(root, 'docs'))
        .filter((name) => name.endsWith('.md'))
        .map((name) => `docs/${name}`),
    ];
    /** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
    const slug = (heading: string): string =>
      heading
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N} _-]/gu, '')
        .replace(/ /g, '-');
    const anchors = (page: string): string[] =>
      [...read(page).matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1] as string));
    const broken: string[] = [];
    for (const page of pages) {
      for (const [, target] of read(page).matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target as string)) continue;
        const [path, anchor] = (target as string).split('#') as [string, string | undefined];
        const file = path === '' ? page : normalize(join(dirname(page), path));
        if (!existsSync(join(root, file))) broken.push(`${page}: ${target as string}`);
        else if (anchor && file.endsWith('.md') && !anchors(file).includes(anchor)) {
          broken.push(`${page}: ${target as string}`);
        }
      }
    }
    expect(broken).toEqual([]);
  });

  it('README stays short: details go in docs/', () => {
    expect(Buffer.byteLength(read('README.md'))).toBeLessThan(16_000);
  });
});
