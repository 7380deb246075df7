import {
  getMetadataStorage,
  IS_IN,
  IS_OPTIONAL,
  ValidationTypes,
  type MetadataStorage,
  type ValidationArguments,
} from 'class-validator';
import { BatchOperationDto, VERBATIM_FIELDS, transformMethod } from './batch-operation.dto.js';
import { closestName } from './field.suggestion.js';

type Metadata = ReturnType<MetadataStorage['getTargetValidationMetadatas']>[number];
type Constraint = ReturnType<MetadataStorage['getTargetValidatorConstraints']>[number];

/** One rule of one field, with the constraint class instance class-validator would call. */
interface Check {
  readonly metadata: Metadata;
  readonly constraint: Constraint;
  /** The key class-validator files the message under: a second rule of that name replaces it. */
  readonly type: string;
  /**
   * For `@IsIn(values)`: the values, to look up rather than to search. class-validator compares
   * with `===`, a Set with SameValueZero: they differ only for NaN, so a list holding NaN keeps
   * the search.
   */
  readonly oneOf?: ReadonlySet<unknown>;
}

/** The rules of one field, in the order class-validator applies them. */
interface FieldRules {
  readonly property: string;
  /** `@IsOptional()`, `@ValidateIf()`: the checks run only if every one says so. */
  readonly conditions: readonly Metadata[];
  /**
   * The one condition is `@IsOptional()`, whose test is "neither null nor undefined": applied
   * here without calling it, as it is asked for every absent field of every operation.
   */
  readonly optionalOnly: boolean;
  readonly checks: readonly Check[];
}

/** The rules, and each field's place among them (where its value is kept while checking). */
interface CompiledRules {
  readonly fields: readonly FieldRules[];
  readonly indexOf: ReadonlyMap<string, number>;
}

/** An operation's fields as the DTO instance would hold them, and what is wrong with them. */
export interface CheckedFields {
  readonly fields: Readonly<Record<string, unknown>>;
  /** class-validator's messages for this operation, without the `<root>.<index>.` prefix. */
  readonly problems: readonly string[];
}

let compiled: CompiledRules | undefined;

/**
 * The DTO's rules, read once from class-validator's own metadata. class-validator looks them up
 * again for every object it validates, scanning every class registered in the process for
 * inherited rules (typestack/class-validator#2686): in an app with 500 DTO classes that scan
 * cost more per operation than dispatching it. Read lazily so that every decorator of the DTO
 * module has run.
 */
function rules(): CompiledRules {
  if (compiled) return compiled;
  const storage = getMetadataStorage();
  const byField = new Map<string, { conditions: Metadata[]; checks: Check[] }>();
  for (const metadata of storage.getTargetValidationMetadatas(
    BatchOperationDto,
    '',
    false,
    false,
  )) {
    let field = byField.get(metadata.propertyName);
    if (!field) byField.set(metadata.propertyName, (field = { conditions: [], checks: [] }));
    if (metadata.type === ValidationTypes.CONDITIONAL_VALIDATION) {
      field.conditions.push(metadata);
    } else if (metadata.type === ValidationTypes.CUSTOM_VALIDATION) {
      for (const constraint of storage.getTargetValidatorConstraints(metadata.constraintCls)) {
        if (constraint.async) throw new Error('BatchOperationDto: async rules are not supported');
        const type = constraint.name || metadata.type;
        const values: unknown = (metadata.constraints as readonly unknown[] | undefined)?.[0];
        const oneOf =
          type === IS_IN && Array.isArray(values) && values.every((v) => v === v)
            ? new Set<unknown>(values)
            : undefined;
        field.checks.push({ metadata, constraint, type, oneOf });
      }
    } else {
      // Nested, promise, defined and whitelist rules would need class-validator's executor:
      // a DTO change that adds one must change this file too (the property test would fail).
      throw new Error(`BatchOperationDto: ${metadata.type} rules are not supported here`);
    }
  }
  const fields = [...byField].map(([property, field]) => ({
    property,
    ...field,
    optionalOnly: field.conditions.length === 1 && field.conditions[0]?.name === IS_OPTIONAL,
  }));
  compiled = { fields, indexOf: new Map(fields.map((field, index) => [field.property, index])) };
  return compiled;
}

/**
 * Validates one operation as `validateSync(plainToInstance(BatchOperationDto, item), { whitelist:
 * true, forbidNonWhitelisted: true })` does, same messages in the same order, without
 * class-validator's per-object metadata scan (see {@link rules}). The fields are first cut to
 * the depth class-transformer is given (see `shallow` in operation.rules.ts) and `method` is
 * transformed as the DTO's `@Transform` does. One difference: a field named like an
 * `Object.prototype` member (`toString`, `constructor`) is refused as unknown, where
 * class-transformer leaves it out of the instance and class-validator never sees it.
 */
export function checkOperationFields(item: Readonly<Record<string, unknown>>): CheckedFields {
  const problems: string[] = [];
  const fields: Record<string, unknown> = {};
  const { fields: list, indexOf } = rules();
  // Each field's value by its rule's place: read back by index below, not by name (a keyed
  // lookup in an object of varying shape was the largest single cost here).
  const values: unknown[] = new Array<unknown>(list.length);
  for (const key of Object.keys(item)) {
    if (VERBATIM.has(key)) continue;
    const at = indexOf.get(key);
    if (at === undefined) {
      // class-validator's message, and the field it is likely a typo of, as options get.
      const likely = closestName(key, [...indexOf.keys(), ...VERBATIM_FIELDS]);
      const hint = likely === undefined ? '' : `; did you mean "${likely}"?`;
      problems.push(`property ${key} should not exist${hint}`);
      continue;
    }
    const cutValue = cut(item[key], 1);
    const value = key === 'method' ? transformMethod(cutValue) : cutValue;
    fields[key] = value;
    values[at] = value;
  }
  // Plain loops and one arguments object per field checked: this runs for every operation of
  // every batch, and a closure or an object per rule was most of its cost.
  for (let at = 0; at < list.length; at++) {
    const field = list[at] as FieldRules;
    const value = values[at];
    if (field.optionalOnly) {
      if (value === null || value === undefined) continue;
    } else if (!conditionsHold(field.conditions, fields, value)) continue;
    const args: { -readonly [K in keyof ValidationArguments]: ValidationArguments[K] } = {
      targetName: TARGET_NAME,
      property: field.property,
      object: fields,
      value,
      constraints: [],
    };
    let messages: Record<string, string> | undefined;
    const { checks } = field;
    for (let each = 0; each < checks.length; each++) {
      const { metadata, constraint, type, oneOf } = checks[each] as Check;
      if (metadata.validateIf && !metadata.validateIf(fields, value)) continue;
      args.constraints = metadata.constraints;
      const validator = constraint.instance;
      const valid =
        metadata.each && Array.isArray(value)
          ? value.every((member: unknown) => Boolean(validator.validate(member, args)))
          : oneOf
            ? oneOf.has(value)
            : Boolean(validator.validate(value, args));
      if (valid) continue;
      messages ??= {};
      const message: unknown =
        metadata.message ||
        (typeof validator.defaultMessage === 'function' ? validator.defaultMessage(args) : '');
      messages[type] = withTokens(message, args);
    }
    if (messages) problems.push(...Object.values(messages));
  }
  return { fields, problems };
}

const VERBATIM: ReadonlySet<string> = new Set(VERBATIM_FIELDS);
const TARGET_NAME = BatchOperationDto.name;

/** Whether every `@IsOptional()` / `@ValidateIf()` of a field lets its checks run. */
function conditionsHold(
  conditions: readonly Metadata[],
  fields: Record<string, unknown>,
  value: unknown,
): boolean {
  for (const rule of conditions) {
    if (!(rule.constraints[0] as Condition)(fields, value)) return false;
  }
  return true;
}

type Condition = (object: object, value: unknown) => boolean;

/** class-validator's `ValidationUtils.replaceMessageSpecialTokens` (not exported by it). */
function withTokens(message: unknown, args: ValidationArguments): string {
  let text =
    typeof message === 'function'
      ? (message as (args: ValidationArguments) => string)(args)
      : typeof message === 'string'
        ? message
        : '';
  if (!text) return text;
  const constraints: unknown = args.constraints;
  if (Array.isArray(constraints))
    constraints.forEach((constraint: unknown, index) => {
      const shown = Array.isArray(constraint)
        ? constraint.join(', ')
        : typeof constraint === 'symbol'
          ? String(constraint.description)
          : String(constraint);
      text = text.replace(new RegExp(`\\$constraint${index + 1}`, 'g'), shown);
    });
  const value: unknown = args.value;
  if (typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number') {
    text = text.replace(/\$value/g, String(value));
  }
  return text.replace(/\$property/g, args.property).replace(/\$target/g, args.targetName);
}

/**
 * A value cut below `levels` levels, as the operation's fields reach class-transformer: it
 * recurses without bound (a `dependsOn` nested 200,000 deep overflowed the stack), and every
 * field it transforms is a scalar or a list of strings, so what is cut was invalid anyway and is
 * still reported by the field's own rule.
 */
export function cut(value: unknown, levels: number): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (levels === 0) return Array.isArray(value) ? [] : {};
  return Array.isArray(value) ? value.map((each: unknown) => cut(each, levels - 1)) : {};
}
