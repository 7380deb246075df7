import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { BATCH_OPTION_DEFAULTS } from 'nestjs-batch';
import { BATCH_MODULE_EXTRAS_DEFAULTS } from '../../lib/batch.options.js';

const MiB = 1024 * 1024;

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

  describe('the options tables and TSDoc agree with the options lib/batch.options.ts declares', () => {
    /** Each option's default: the resolved options', and the extras fixed at import time. */
    const declared: Readonly<Record<string, unknown>> = {
      ...BATCH_OPTION_DEFAULTS,
      ...BATCH_MODULE_EXTRAS_DEFAULTS,
    };
    /** `option` -> its whole table row, from a page's options table. */
    const rows = (file: string): Map<string, string> =>
      new Map(
        [...read(file).matchAll(/^\| `(\w+)` .*\|$/gm)].map((match) => [
          match[1] ?? '',
          match[0].replace(/\s+/g, ' '),
        ]),
      );
    /**
     * How a page may write a default: a scalar as code (`50`, `'essential'`, `null`), a whole
     * number of MiB also as such; undefined for a list or object, which the pages describe in words.
     */
    const spellings = (value: unknown): string[] | undefined => {
      if (typeof value === 'number') {
        return value >= MiB && value % MiB === 0
          ? [`${value}`, `${value / MiB} MiB`]
          : [`${value}`];
      }
      if (typeof value === 'string') return [`'${value}'`];
      if (typeof value === 'boolean' || value === null) return [String(value)];
      if (Array.isArray(value) && value.length === 0) return ['[]'];
      return undefined;
    };
    /** The options whose stated default differs from the declared one, as `name: stated`. */
    const wrongDefaults = (stated: Iterable<[string, string | undefined]>): string[] =>
      [...stated]
        .filter(([name, text]) => {
          const allowed = spellings(declared[name]);
          return allowed !== undefined && !allowed.includes(text ?? '');
        })
        .map(([name, text]) => `${name}: ${text ?? 'none'}`);

    it('docs/options.md has one row per option, no other, each with its default', () => {
      const options = rows('docs/options.md');
      expect([...options.keys()].sort()).toEqual(Object.keys(declared).sort());
      // The default column's first code span.
      const stated = [...options].map(([name, row]): [string, string | undefined] => [
        name,
        /`([^`]+)`/.exec(row.split('|')[2] ?? '')?.[1],
      ]);
      expect(wrongDefaults(stated)).toEqual([]);
    });

    it("README's rows are docs/options.md's", () => {
      const options = rows('docs/options.md');
      const readme = rows('README.md');
      expect(readme.size).toBeGreaterThan(0);
      for (const [name, row] of readme) {
        expect(options.get(name)?.replace(/\]\([^)]*\)/g, '')).toBe(
          row.replace(/\]\([^)]*\)/g, ''),
        );
      }
    });

    it("each option's TSDoc states its default", () => {
      const source = ts.createSourceFile(
        'batch.options.ts',
        read('lib/batch.options.ts'),
        ts.ScriptTarget.Latest,
        true,
      );
      const members = source.statements
        .filter(ts.isInterfaceDeclaration)
        .filter((node) => ['BatchModuleOptions', 'BatchModuleExtras'].includes(node.name.text))
        .flatMap((node) => [...node.members]);
      const docs = new Map(
        members.map((member) => [
          (member.name as ts.Identifier).text,
          ts
            .getJSDocCommentsAndTags(member)
            .map((doc) => doc.getText())
            .join('\n')
            .replace(/\s*\n\s*\*\s*/g, ' '),
        ]),
      );
      expect([...docs.keys()].sort()).toEqual(Object.keys(declared).sort());
      expect([...docs].filter(([, doc]) => !/\bDefault\b/.test(doc)).map(([name]) => name)).toEqual(
        [],
      );
      const stated = [...docs].map(([name, doc]): [string, string | undefined] => [
        name,
        /\bDefault:? `([^`]+)`/.exec(doc)?.[1],
      ]);
      expect(wrongDefaults(stated)).toEqual([]);
    });
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
