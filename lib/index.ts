export { BatchModule } from './batch.module.js';
export { BATCH_MODULE_OPTIONS } from './batch.module-definition.js';
export {
  BatchOptionDefaults,
  type BatchModuleExtras,
  type BatchModuleOptions,
} from './batch.options.js';
export {
  BATCH_FORMATS,
  BATCH_METHODS,
  DECODED_CONTENT_ENCODINGS,
  DEFAULT_BATCH_PATH,
  DEFAULT_INHERITED_HEADERS,
  FORBIDDEN_OPERATION_HEADERS,
  NDJSON_MEDIA_TYPE,
} from './batch.constants.js';
export { BODY_ENCODINGS } from './operation/body-encoding.rules.js';
export { BatchLimitExceededException, InvalidBatchException } from './batch.exceptions.js';
export { BatchExecutor, type BatchRunContext } from './execute/batch.executor.js';
export {
  getBatchOperation,
  isBatchOperation,
  type BatchOperationInfo,
} from './dispatch/sub-request.marker.js';
export { SkipBatch } from './policy/skip-batch.decorator.js';
export { isBatchEndpoint } from './policy/batch-endpoint.marker.js';
export type { BatchExcludedRoute } from './policy/route.exclusions.js';
export type { NativeBatchReply } from './formats/native.encoder.js';
export type { BatchFormat } from './formats/batch-format.interface.js';
export type {
  BatchEntry,
  BatchMethod,
  BatchOperation,
  BatchOutcome,
  BatchResult,
  DecodedContentEncoding,
} from './interfaces/batch-operation.interface.js';
