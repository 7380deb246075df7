import { BATCH_METHODS, OPERATION_NAME_PATTERN } from '../batch.constants.js';
import { VERBATIM_FIELDS, transformMethod } from './batch-operation.dto.js';
import { BODY_ENCODINGS } from './body-encoding.rules.js';
import { closestName } from './field.suggestion.js';
import { urlProblem } from './url.rules.js';

/** An operation's fields as the DTO instance would hold them, and what is wrong with them. */
export interface CheckedFields {
  readonly fields: Readonly<Record<string, unknown>>;
  /** The messages for this operation, without the `<root>.<index>.` prefix. */
  readonly problems: readonly string[];
}

/** A field's rule: its value's problems, none when it is valid. */
type FieldRule = (value: unknown) => readonly string[];

const NONE: readonly string[] = Object.freeze([]);

/** `@IsOptional()`: null and undefined pass, anything else is held to `rule`. */
const optional =
  (rule: FieldRule): FieldRule =>
  (value) =>
    value === null || value === undefined ? NONE : rule(value);

/** `@IsString() @Matches(OPERATION_NAME_PATTERN)`: a name, or a group's. */
const nameRule = (field: string): FieldRule => {
  const mismatch = `${field} must be 1-128 characters of A-Z a-z 0-9 _ . ~ -`;
  const notString = Object.freeze([mismatch, `${field} must be a string`]);
  const bad = Object.freeze([mismatch]);
  return optional((value) =>
    typeof value !== 'string' ? notString : OPERATION_NAME_PATTERN.test(value) ? NONE : bad,
  );
};

const METHODS: ReadonlySet<unknown> = new Set(BATCH_METHODS);
const problem = (message: string): readonly string[] => Object.freeze([message]);
const NOT_A_METHOD = problem(
  `method must be one of the following values: ${BATCH_METHODS.join(', ')}`,
);
const NOT_AN_ENCODING = problem('bodyEncoding must be "base64" (or absent, for a JSON body)');
const DEPENDS_ON_NOT_STRINGS = problem('each value in dependsOn must be a string');
const DEPENDS_ON_NOT_ARRAY = problem('dependsOn must be an array');
const DEPENDS_ON_NEITHER = Object.freeze([...DEPENDS_ON_NOT_STRINGS, ...DEPENDS_ON_NOT_ARRAY]);
const NOT_A_BOOLEAN = problem('omitResponseOnSuccess must be a boolean value');

/**
 * The rules of the native operation's fields (`method` as the DTO's `@Transform` leaves it), written once for this small fixed shape. They are
 * those `BatchOperationDto`'s decorators declare (which stay, for `@nestjs/swagger` and users'
 * own `ValidationPipe`), with class-validator's messages in its order. class-validator's own `validate()` looks a class's
 * rules up on every call by scanning the rules of every decorated class in the process
 * (typestack/class-validator#2686), so its cost per operation grows with the app's DTO count:
 * CONTRIBUTING.md ("Operation rules written by hand") gives the figures.
 */
const RULES: Readonly<Record<string, FieldRule>> = {
  method: (value) => (METHODS.has(value) ? NONE : NOT_A_METHOD),
  url: (value) => {
    if (typeof value !== 'string') return problem('url must be a string');
    const found = urlProblem(value);
    return found === undefined ? NONE : problem(`url ${found}`);
  },
  bodyEncoding: optional((value) =>
    (BODY_ENCODINGS as readonly unknown[]).includes(value) ? NONE : NOT_AN_ENCODING,
  ),
  name: nameRule('name'),
  dependsOn: optional((value) =>
    Array.isArray(value)
      ? value.every((each) => typeof each === 'string')
        ? NONE
        : DEPENDS_ON_NOT_STRINGS
      : typeof value === 'string'
        ? DEPENDS_ON_NOT_ARRAY
        : DEPENDS_ON_NEITHER,
  ),
  omitResponseOnSuccess: optional((value) => (typeof value === 'boolean' ? NONE : NOT_A_BOOLEAN)),
  atomicityGroup: nameRule('atomicityGroup'),
};

/** The fields {@link RULES} checks, in the order their messages come. */
export const OPERATION_FIELDS: readonly string[] = Object.freeze(Object.keys(RULES));
const VERBATIM: ReadonlySet<string> = new Set(VERBATIM_FIELDS);
const KNOWN: readonly string[] = [...OPERATION_FIELDS, ...VERBATIM_FIELDS];

/**
 * Checks one operation's fields (all but `headers` and `body`, which have rules of their own):
 * the fields it holds, `method` upper-cased and `dependsOn` copied, and every problem, an
 * unknown field first, then the fields in {@link OPERATION_FIELDS} order. A field named like an
 * `Object.prototype` member (`toString`, `constructor`) is unknown too.
 */
export function checkOperationFields(item: Readonly<Record<string, unknown>>): CheckedFields {
  const problems: string[] = [];
  for (const key of Object.keys(item)) {
    if (VERBATIM.has(key) || Object.hasOwn(RULES, key)) continue;
    // The field it is likely a typo of, as options get.
    const likely = closestName(key, KNOWN);
    const hint = likely === undefined ? '' : `; did you mean "${likely}"?`;
    problems.push(`property ${key} should not exist${hint}`);
  }
  const fields: Record<string, unknown> = {};
  for (const field of OPERATION_FIELDS) {
    // Absent is undefined: only `method` and `url` then have a problem.
    const given = Object.hasOwn(item, field) ? item[field] : undefined;
    const value = field === 'method' ? transformMethod(given) : given;
    const found = (RULES[field] as FieldRule)(value);
    if (found.length > 0) problems.push(...found);
    if (given !== undefined)
      fields[field] = Array.isArray(value) ? [...(value as unknown[])] : value;
  }
  return { fields, problems };
}
