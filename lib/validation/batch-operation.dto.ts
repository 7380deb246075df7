import { Exclude, Transform, Type } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsIn,
  IsOptional,
  IsString,
  Matches,
  ValidateNested,
} from 'class-validator';
import { BATCH_METHODS, OPERATION_NAME_PATTERN } from '../batch.constants.js';
import type { BatchMethod } from '../interfaces/batch-operation.interface.js';
import { BODY_ENCODINGS } from './body-encoding.rules.js';
import { IsOperationUrl } from './url.rules.js';

/**
 * The DTO's `@Transform` of `method`: upper case, so `get` is `GET`. Shared with the hot-path
 * validator (operation.validator.ts), which applies it without class-transformer.
 */
export function transformMethod(value: unknown): unknown {
  return typeof value === 'string' ? value.toUpperCase() : value;
}

/**
 * The fields excluded from the transformation and taken verbatim by the decoder, with rules of
 * their own (header.rules.ts, body-encoding.rules.ts).
 */
export const VERBATIM_FIELDS: readonly string[] = ['headers', 'body'];

/**
 * One operation of the native format. `headers` and `body` are excluded from the transformation
 * because class-transformer rebuilds untyped values, which would turn a `__proto__` key of the
 * client's JSON into a prototype; the decoder takes them verbatim instead.
 */
export class BatchOperationDto {
  @Transform(({ value }: { value: unknown }) => transformMethod(value))
  @IsIn(BATCH_METHODS)
  method!: BatchMethod;

  @IsOperationUrl()
  url!: string;

  @Exclude()
  headers?: unknown;

  @Exclude()
  body?: unknown;

  @IsOptional()
  @IsIn(BODY_ENCODINGS, { message: '$property must be "base64" (or absent, for a JSON body)' })
  bodyEncoding?: (typeof BODY_ENCODINGS)[number];

  @IsOptional()
  @IsString()
  @Matches(OPERATION_NAME_PATTERN, {
    message: '$property must be 1-128 characters of A-Z a-z 0-9 _ . ~ -',
  })
  name?: string;

  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  dependsOn?: string[];

  @IsOptional()
  @IsBoolean()
  omitResponseOnSuccess?: boolean;

  @IsOptional()
  @IsString()
  @Matches(OPERATION_NAME_PATTERN, {
    message: '$property must be 1-128 characters of A-Z a-z 0-9 _ . ~ -',
  })
  atomicityGroup?: string;
}

/** The native envelope: `{ "data": [operations] }`. */
export class BatchRequestDto {
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => BatchOperationDto)
  data!: BatchOperationDto[];
}
