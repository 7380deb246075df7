import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { InvalidBatchException } from '../../lib/batch.exceptions.js';
import { BatchRequestDto } from '../../lib/validation/batch-operation.dto.js';
import { decodeOperations } from '../../lib/validation/operation.rules.js';

/**
 * What class-validator itself says of a list of operations through the documented DTOs: the
 * transformation and options a user's `ValidationPipe({ whitelist, forbidNonWhitelisted })` would
 * apply to `BatchRequestDto`, messages flattened as Nest's pipe writes them. The reference the
 * hot-path validator (lib/validation/operation.validator.ts) is held to.
 */
export function dtoProblems(data: Record<string, unknown>[]): string[] {
  const verbatim = data.map((item) => ({ ...item, headers: undefined, body: undefined }));
  const dto = plainToInstance(BatchRequestDto, { data: verbatim });
  const errors = validateSync(dto, {
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    validationError: { target: false, value: false },
  });
  const messagesOf = (error: ValidationError, parent: string): string[] => {
    const path = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((m) => (parent ? `${parent}.${m}` : m));
    return [...own, ...(error.children ?? []).flatMap((child) => messagesOf(child, path))];
  };
  return errors.flatMap((error) => messagesOf(error, ''));
}

/**
 * The field-rule problems decodeOperations reports (headers and body have rules of their own),
 * without the typo hint it adds to class-validator's message for an unknown field.
 */
export function hotPathProblems(data: Record<string, unknown>[]): string[] {
  try {
    decodeOperations(data, 1000, 'data');
    return [];
  } catch (error) {
    if (!(error instanceof InvalidBatchException)) throw error;
    return error.problems.map((problem) => problem.replace(/; did you mean "[^"]*"\?$/, ''));
  }
}
