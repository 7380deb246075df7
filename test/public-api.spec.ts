import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/**
 * The API report: every name the two entry points export, with its declaration as the built
 * .d.ts files give it (comments dropped). An export added, removed or changed shows up as a
 * snapshot diff in review; update it on purpose with `npx jest test/public-api.spec.ts -u`.
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const entryPoints = {
  'nestjs-batch': resolve(root, 'dist/index.d.ts'),
  'nestjs-batch/client': resolve(root, 'dist/client/index.d.ts'),
};

function report(entry: string): string {
  const program = ts.createProgram([entry], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    skipLibCheck: true,
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(entry);
  if (!source) throw new Error(`${entry} was not built`);
  const moduleSymbol = checker.getSymbolAtLocation(source);
  if (!moduleSymbol) throw new Error(`${entry} exports nothing`);
  const printer = ts.createPrinter({ removeComments: true });
  return checker
    .getExportsOfModule(moduleSymbol)
    .map((exported) => {
      const symbol =
        exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      // Private members are not API: they would only make every refactor a snapshot change.
      const declarations = (symbol.declarations ?? []).map((declaration) =>
        printer
          .printNode(ts.EmitHint.Unspecified, declaration, declaration.getSourceFile())
          .replace(/^\s+private [^\n]*\n/gm, ''),
      );
      return { name: exported.name, text: declarations.join('\n') };
    })
    .sort((a, b) => a.name.localeCompare(b.name))
    .map(({ name, text }) => `// ${name}\n${text}`)
    .join('\n\n');
}

describe('the public API', () => {
  it.each(Object.entries(entryPoints))('of %s matches its report', (_name, entry) => {
    expect(report(entry)).toMatchSnapshot();
  });
});
