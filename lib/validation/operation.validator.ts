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

const METHODS: ReadonlySet<unknown> = new Set(BATCH_METHODS);
const NOT_A_METHOD = `method must be one of the following values: ${BATCH_METHODS.join(', ')}`;
const ENCODINGS: ReadonlySet<unknown> = new Set(BODY_ENCODINGS);
const NOT_AN_ENCODING = 'bodyEncoding must be "base64" (or absent, for a JSON body)';
const NAME_MISMATCH = ' must be 1-128 characters of A-Z a-z 0-9 _ . ~ -';

/**
 * The fields of a native operation this checks (`headers` and `body` have rules of their own),
 * in the order their problems are reported.
 */
export const OPERATION_FIELDS: readonly string[] = Object.freeze([
  'method',
  'url',
  'bodyEncoding',
  'name',
  'dependsOn',
  'omitResponseOnSuccess',
  'atomicityGroup',
]);
const KNOWN: readonly string[] = [...OPERATION_FIELDS, ...VERBATIM_FIELDS];

/**
 * Checks one operation's fields by the rules `BatchOperationDto`'s decorators declare, written
 * once here for this small fixed shape: the DTO's decorators stay for `@nestjs/swagger` and for
 * users' own `ValidationPipe`, and test/operation-fields.spec.ts holds the two to the same
 * fields. The messages are class-validator's for those decorators, in its order: an unknown
 * field first (with the field it is likely a typo of), then by {@link OPERATION_FIELDS}.
 * class-validator's own `validate()` is not called on this path because it looks a class's
 * rules up on every call by scanning the rules of every decorated class in the process
 * (typestack/class-validator#2686), so its cost per operation grows with the app's DTO count
 * (CONTRIBUTING.md, "Operation rules written by hand", gives the figures). A field named like
 * an `Object.prototype` member (`toString`, `constructor`) is unknown too.
 * @returns The fields the operation holds (`method` upper-cased as the DTO's `@Transform`
 * does, `dependsOn` copied), and its problems, without the `<root>.<index>.` prefix.
 */
export function checkOperationFields(item: Readonly<Record<string, unknown>>): CheckedFields {
  const problems: string[] = [];
  // One pass over the keys, each known value into a local: this runs for every operation.
  let method: unknown;
  let url: unknown;
  let bodyEncoding: unknown;
  let name: unknown;
  let dependsOn: unknown;
  let omitResponseOnSuccess: unknown;
  let atomicityGroup: unknown;
  for (const key of Object.keys(item)) {
    const value = item[key];
    switch (key) {
      case 'method':
        // Most clients send it upper case already: then there is nothing to transform.
        method = METHODS.has(value) ? value : transformMethod(value);
        break;
      case 'url':
        url = value;
        break;
      case 'bodyEncoding':
        bodyEncoding = value;
        break;
      case 'name':
        name = value;
        break;
      case 'dependsOn':
        dependsOn = value;
        break;
      case 'omitResponseOnSuccess':
        omitResponseOnSuccess = value;
        break;
      case 'atomicityGroup':
        atomicityGroup = value;
        break;
      case 'headers':
      case 'body':
        break;
      default: {
        const likely = closestName(key, KNOWN);
        const hint = likely === undefined ? '' : `; did you mean "${likely}"?`;
        problems.push(`property ${key} should not exist${hint}`);
      }
    }
  }
  // `@IsIn(BATCH_METHODS)` after the `@Transform`.
  if (!METHODS.has(method)) problems.push(NOT_A_METHOD);
  // `@IsOperationUrl()`.
  if (typeof url !== 'string') problems.push('url must be a string');
  else {
    const problem = urlProblem(url);
    if (problem !== undefined) problems.push(`url ${problem}`);
  }
  // The rest are `@IsOptional()`: null and undefined pass.
  if (bodyEncoding != null && !ENCODINGS.has(bodyEncoding)) problems.push(NOT_AN_ENCODING);
  if (name != null) nameProblems('name', name, problems);
  if (dependsOn != null) {
    // `@IsString({ each: true })`, then `@IsArray()`.
    if (Array.isArray(dependsOn)) {
      if (!dependsOn.every((each) => typeof each === 'string')) {
        problems.push('each value in dependsOn must be a string');
      }
    } else {
      if (typeof dependsOn !== 'string') problems.push('each value in dependsOn must be a string');
      problems.push('dependsOn must be an array');
    }
  }
  if (omitResponseOnSuccess != null && typeof omitResponseOnSuccess !== 'boolean') {
    problems.push('omitResponseOnSuccess must be a boolean value');
  }
  if (atomicityGroup != null) nameProblems('atomicityGroup', atomicityGroup, problems);
  return {
    fields: {
      method,
      url,
      bodyEncoding,
      name,
      dependsOn: Array.isArray(dependsOn) ? [...(dependsOn as unknown[])] : dependsOn,
      omitResponseOnSuccess,
      atomicityGroup,
    },
    problems,
  };
}

/** `@Matches(OPERATION_NAME_PATTERN)`, then `@IsString()`. */
function nameProblems(field: string, value: unknown, problems: string[]): void {
  if (typeof value !== 'string') {
    problems.push(field + NAME_MISMATCH, `${field} must be a string`);
  } else if (!OPERATION_NAME_PATTERN.test(value)) problems.push(field + NAME_MISMATCH);
}
