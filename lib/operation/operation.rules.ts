import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { BatchLimitExceededException, InvalidBatchException } from '../batch.exceptions.js';
import type { BatchOperation } from '../interfaces/batch-operation.interface.js';
import { isRecord } from '../formats/format.utils.js';
import { BatchRequestDto } from './batch-operation.dto.js';
import { decodeEncodedBody } from './body-encoding.rules.js';
import {
  headerBlockBytes,
  headerNameProblem,
  isValidHeaderValue,
  MAX_OPERATION_HEADER_BYTES,
} from './header.rules.js';

export const NATIVE_ENVELOPE =
  'the batch must be a JSON object {"data": [operations]} sent with Content-Type: application/json';

/**
 * Decodes the native envelope `{ "data": [...] }` into operations.
 * @throws InvalidBatchException, BatchLimitExceededException
 */
export function decodeNativeBatch(body: unknown, limit: number): BatchOperation[] {
  if (!isRecord(body) || !('data' in body)) throw new InvalidBatchException([NATIVE_ENVELOPE]);
  return decodeOperations(body.data, limit, 'data');
}

/**
 * Validates a list of operations in the native shape, whichever format they came in: every
 * format's codec maps its own fields onto this shape, so one set of rules (methods, urls,
 * headers, names) guards them all. The count is checked before any per-operation work, so an
 * oversized batch is refused as fast as a small one. Every problem is reported at once, named
 * by `root`, operation index and field; nothing runs if there is one.
 * @throws InvalidBatchException, BatchLimitExceededException
 */
export function decodeOperations(data: unknown, limit: number, root: string): BatchOperation[] {
  if (!Array.isArray(data))
    throw new InvalidBatchException([`${root} must be an array of operations`]);
  if (data.length === 0)
    throw new InvalidBatchException([`${root} must hold at least one operation`]);
  if (data.length > limit) throw new BatchLimitExceededException(data.length, limit);

  const problems: string[] = [];
  data.forEach((item: unknown, index) => {
    if (!isRecord(item)) problems.push(`${root}.${index} must be an object`);
  });
  if (problems.length > 0) throw new InvalidBatchException(problems);

  const dto = plainToInstance(BatchRequestDto, { data });
  const errors = validateSync(dto, {
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    validationError: { target: false, value: false },
  });
  problems.push(
    ...errors
      .flatMap((error) => messagesOf(error, ''))
      .map((message) => message.replace(/^data\./, `${root}.`)),
  );

  const raw = data as Record<string, unknown>[];
  const operations = dto.data.map((operation, index): BatchOperation => {
    const { headers, body: operationBody } = raw[index] ?? {};
    const decoded: BatchOperation = {
      method: operation.method,
      url: operation.url,
      headers: decodeHeaders(headers, `${root}.${index}.headers`, problems),
    };
    if (operation.bodyEncoding === 'base64') {
      decoded.body = decodeEncodedBody(operationBody, `${root}.${index}`, problems);
    } else if (operationBody !== undefined) decoded.body = operationBody;
    if (operation.name !== undefined) decoded.name = operation.name;
    if (operation.dependsOn !== undefined) decoded.dependsOn = operation.dependsOn;
    if (operation.omitResponseOnSuccess !== undefined) {
      decoded.omitResponseOnSuccess = operation.omitResponseOnSuccess;
    }
    return decoded;
  });
  if (problems.length > 0) throw new InvalidBatchException(problems);
  return operations;
}

/**
 * Headers as `{ "name": "value" }` or `[{ "name", "value" }]` (the seed's array form), to one
 * object with lower-case names.
 */
function decodeHeaders(raw: unknown, path: string, problems: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  if (raw === undefined || raw === null) return headers;
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
    else if (!isValidHeaderValue(value)) {
      problems.push(`${path}: header "${name}" holds a control character (CR, LF, NUL, ...)`);
    } else headers[name.toLowerCase()] = value;
  }
  if (headerBlockBytes(headers) > MAX_OPERATION_HEADER_BYTES) {
    problems.push(
      `${path} take more than ${MAX_OPERATION_HEADER_BYTES} bytes, more than a request of its own may carry`,
    );
  }
  return headers;
}

/** Nest's ValidationPipe style: `data.3.method must be one of ...`. */
function messagesOf(error: ValidationError, parent: string): string[] {
  const path = parent ? `${parent}.${error.property}` : error.property;
  const own = Object.values(error.constraints ?? {}).map((message) =>
    parent ? `${parent}.${message}` : message,
  );
  return [...own, ...(error.children ?? []).flatMap((child) => messagesOf(child, path))];
}
