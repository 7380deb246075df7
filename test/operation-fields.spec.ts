import 'reflect-metadata';
import { getMetadataStorage } from 'class-validator';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { nativeOperation } from '../lib/http/batch.openapi.js';
import { BatchOperationDto, VERBATIM_FIELDS } from '../lib/validation/batch-operation.dto.js';
import { OPERATION_FIELDS } from '../lib/validation/operation.validator.js';

/*
 * The native operation's fields are written in six places: the DTO (what users' ValidationPipe
 * and @nestjs/swagger read), the rules the endpoint applies, the BatchOperation interface (what
 * code passes to BatchExecutor), the OpenAPI schema, the client's BatchRequestInit and
 * docs/formats.md's table. This holds the five copies to the DTO.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The property names of an interface, read from its source file. */
function interfaceFields(file: string, name: string): string[] {
  const source = ts.createSourceFile(
    file,
    readFileSync(join(root, file), 'utf8'),
    ts.ScriptTarget.Latest,
  );
  const found = source.statements.find(
    (node): node is ts.InterfaceDeclaration =>
      ts.isInterfaceDeclaration(node) && node.name.text === name,
  );
  if (!found) throw new Error(`${file} declares no interface ${name}`);
  return found.members.map((member) => (member.name as ts.Identifier).text);
}

/** The first column of the table in formats.md whose header is `field`. */
function documentedFields(): string[] {
  const lines = readFileSync(join(root, 'docs/formats.md'), 'utf8').split('\n');
  const header = lines.findIndex((line) => /^\|\s*field\s*\|/.test(line));
  const rows: string[] = [];
  for (const line of lines.slice(header + 2)) {
    const cell = /^\|\s*`([^`]+)`/.exec(line);
    if (!cell) break;
    rows.push(cell[1] as string);
  }
  return rows;
}

const sorted = (names: Iterable<string>): string[] => [...new Set(names)].sort();

describe("the native operation's fields, in every place they are written", () => {
  const dto = sorted([
    ...getMetadataStorage()
      .getTargetValidationMetadatas(BatchOperationDto, '', true, false)
      .map((metadata) => metadata.propertyName),
    ...VERBATIM_FIELDS,
  ]);
  /** Wire-only: a binary body is a Buffer in code, and the client sends JSON or text bodies. */
  const inCode = dto.filter((field) => field !== 'bodyEncoding');

  it('the DTO has the fields the validator knows', () => {
    expect(dto).toContain('atomicityGroup');
    expect(dto).toContain('bodyEncoding');
  });

  it.each([
    ["the endpoint's rules", () => [...OPERATION_FIELDS, ...VERBATIM_FIELDS], dto],
    ['the OpenAPI schema', () => Object.keys(nativeOperation().properties as object), dto],
    ["docs/formats.md's table", documentedFields, dto],
    [
      'the BatchOperation interface',
      () => interfaceFields('lib/interfaces/batch-operation.interface.ts', 'BatchOperation'),
      inCode,
    ],
    [
      "the client's BatchRequestInit",
      () => interfaceFields('lib/client/client.types.ts', 'BatchRequestInit'),
      inCode,
    ],
  ])('%s lists the same fields', (_where, fields, expected) => {
    expect(sorted(fields())).toEqual(expected);
  });
});
