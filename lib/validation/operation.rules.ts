import secureJson from 'secure-json-parse';
import { BatchLimitExceededException, InvalidBatchException } from '../batch.exceptions.js';
import type { BatchOperation } from '../interfaces/batch-operation.interface.js';
import { isRecord } from './json.value.js';
import { checkOperationFields } from './operation.validator.js';
import { decodeEncodedBody } from './body-encoding.rules.js';
import {
  headerBlockBytes,
  headerNameProblem,
  headerValueProblem,
  MAX_OPERATION_HEADER_BYTES,
} from './header.rules.js';

/**
 * The operation lists {@link decodeOperations} made. Only this module can add to it, and what it
 * holds is frozen, so a list in it is still the list that passed the rules: the one proof the
 * executor accepts that a batch was validated. Module-private on purpose.
 */
const VALIDATED = new WeakSet();

/** The headers of every operation that has none: frozen, as every operation's are. */
const NO_HEADERS: Record<string, string> = Object.freeze({});

/**
 * Validates a list of operations in the native shape, whichever format they came in: every
 * format's codec maps its own fields onto this shape, so one set of rules (methods, urls,
 * headers, names) guards them all. The count is checked before any per-operation work, so an
 * oversized batch is refused as fast as a small one. Every problem is reported at once, named
 * by `root`, operation index and field; nothing runs if there is one.
 * @throws InvalidBatchException, BatchLimitExceededException
 */
export function decodeOperations(
  data: unknown,
  limit: number,
  root: string,
): readonly BatchOperation[] {
  if (!Array.isArray(data))
    throw new InvalidBatchException([`${root} must be an array of operations`]);
  if (data.length === 0)
    throw new InvalidBatchException([`${root} must hold at least one operation`]);
  if (data.length > limit) throw new BatchLimitExceededException(data.length, limit);

  const problems: string[] = [];
  for (let index = 0; index < data.length; index++) {
    if (!isRecord(data[index])) problems.push(`${root}.${index} must be an object`);
  }
  if (problems.length > 0) throw new InvalidBatchException(problems);

  // The DTOs' rules, applied by a validator read once from their metadata: class-validator's
  // own validate() scans every decorated class of the app per object (operation.validator.ts).
  // Field problems first, for every operation, then headers and bodies: the order of the
  // messages class-validator gave.
  const fieldProblems: string[] = [];
  const raw = data as Record<string, unknown>[];
  const operations = raw.map((item, index): BatchOperation => {
    const checked = checkOperationFields(item);
    for (const problem of checked.problems) fieldProblems.push(`${root}.${index}.${problem}`);
    const operation = checked.fields as Partial<Record<keyof BatchOperation, unknown>> & {
      bodyEncoding?: unknown;
    };
    const { headers, body: operationBody } = item;
    // Filled in from an empty literal, not written as `{ method, url, headers }`: V8 tracks where
    // an object literal with properties is made, and as operations live through the batch's run
    // it soon makes every one of them in the old generation (pretenuring), where each costs
    // several times as much to fill and to collect. `{}` has no such tracking.
    const decoded = {} as BatchOperation;
    decoded.method = operation.method as BatchOperation['method'];
    decoded.url = operation.url as string;
    decoded.headers =
      headers === undefined || headers === null
        ? NO_HEADERS
        : decodeHeaders(headers, `${root}.${index}.headers`, problems);
    if (operation.bodyEncoding === 'base64') {
      decoded.body = decodeEncodedBody(operationBody, `${root}.${index}`, problems);
    } else if (operationBody !== undefined) decoded.body = operationBody;
    // `null` is absent, as `@IsOptional()` let it through: kept, it became a name "null" that
    // two operations shared, or a group of that name.
    if (operation.name != null) decoded.name = operation.name as string;
    if (operation.dependsOn != null) decoded.dependsOn = operation.dependsOn as string[];
    if (operation.omitResponseOnSuccess != null) {
      decoded.omitResponseOnSuccess = operation.omitResponseOnSuccess as boolean;
    }
    if (operation.atomicityGroup != null)
      decoded.atomicityGroup = operation.atomicityGroup as string;
    return decoded;
  });
  problems.unshift(...fieldProblems);
  if (problems.length > 0) throw new InvalidBatchException(problems);
  for (const operation of operations) {
    if (operation.headers !== NO_HEADERS) Object.freeze(operation.headers);
    Object.freeze(operation);
  }
  VALIDATED.add(Object.freeze(operations));
  return operations;
}

/**
 * The validation boundary of every entry point: a list {@link decodeOperations} made (the
 * endpoint, in every format) as it is; anything else (operations handed to `BatchExecutor` by
 * code, often straight from a request body) through the same rules, named `operations.<index>`.
 * @throws InvalidBatchException, BatchLimitExceededException
 */
export function validatedOperations(operations: unknown, limit: number): readonly BatchOperation[] {
  if (typeof operations === 'object' && operations !== null && VALIDATED.has(operations)) {
    return operations as readonly BatchOperation[];
  }
  // The endpoint parses with secure-json-parse; code may hand over what JSON.parse made of
  // the same text (Express's body parser), where such a key is an own property.
  if (Array.isArray(operations)) {
    for (const operation of operations as unknown[]) {
      if (!isRecord(operation)) continue;
      const { body } = operation;
      const scanned = Buffer.isBuffer(body) ? { ...operation, body: undefined } : operation;
      try {
        secureJson.scan(scanned, { protoAction: 'error', constructorAction: 'error' });
      } catch {
        throw new InvalidBatchException([PROTOTYPE_KEYS]);
      }
    }
  }
  return decodeOperations(operations, limit, 'operations');
}

/** Why a batch with a prototype-polluting key is refused, wherever it came from. */
const PROTOTYPE_KEYS =
  'the batch holds a "__proto__" key or a "constructor" key with a "prototype" inside; such keys are refused anywhere in a batch';

/**
 * Headers as `{ "name": "value" }` or `[{ "name", "value" }]` (the seed's array form), to one
 * object with lower-case names.
 */
function decodeHeaders(raw: unknown, path: string, problems: string[]): Record<string, string> {
  if (raw === undefined || raw === null) return NO_HEADERS;
  const headers: Record<string, string> = {};
  let pairs: [string, unknown][];
  if (Array.isArray(raw)) {
    pairs = [];
    raw.forEach((entry: unknown, i) => {
      if (isRecord(entry) && typeof entry.name === 'string') pairs.push([entry.name, entry.value]);
      else problems.push(`${path}.${i} must be an object { "name": string, "value": string }`);
    });
  } else if (isRecord(raw)) {
    pairs = Object.entries(raw);
  } else {
    problems.push(`${path} must be an object or an array of { "name", "value" }`);
    return headers;
  }
  for (const [name, value] of pairs) {
    const nameProblem = headerNameProblem(name);
    if (nameProblem) problems.push(`${path}: ${nameProblem}`);
    else if (typeof value !== 'string') problems.push(`${path}: header "${name}" must be a string`);
    else {
      const valueProblem = headerValueProblem(value);
      if (valueProblem) problems.push(`${path}: header "${name}" ${valueProblem}`);
      else headers[name.toLowerCase()] = value;
    }
  }
  if (headerBlockBytes(headers) > MAX_OPERATION_HEADER_BYTES) {
    problems.push(
      `${path} take more than ${MAX_OPERATION_HEADER_BYTES} bytes, more than a request of its own may carry`,
    );
  }
  return headers;
}
