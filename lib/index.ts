export { BatchModule } from './batch.module.js';
export type { BatchModuleAsyncOptions, BatchOptionsFactory } from './batch.module-definition.js';
export {
  BATCH_OPTION_DEFAULTS,
  type ResolvedBatchOptions,
  type BatchModuleExtras,
  type BatchModuleOptions,
  type BatchOpenApiOptions,
} from './batch.options.js';
export {
  BATCH_OPTIONS,
  BATCH_FORMATS,
  BATCH_METHODS,
  BROWSER_ORIGIN_HEADERS,
  DECODED_CONTENT_ENCODINGS,
  DEFAULT_BATCH_PATH,
  DEFAULT_INHERITED_HEADERS,
  ENTRY_HEADER_POLICIES,
  ENTRY_HEADERS_DROPPED,
  FORBIDDEN_OPERATION_HEADERS,
  FORWARDING_HEADERS,
  METHOD_OVERRIDE_HEADERS,
  NDJSON_MEDIA_TYPE,
  type BatchFormat,
  type EntryHeaderPolicy,
} from './batch.constants.js';
export { BODY_ENCODINGS } from './validation/body-encoding.rules.js';
export {
  AtomicGroupsUnavailableException,
  BatchBodyTooLargeException,
  BatchException,
  BatchLimitExceededException,
  CrossSiteBatchException,
  InvalidBatchException,
  NestedBatchException,
  UnsupportedBatchFormatException,
  type BatchEntryFailureReason,
  type BatchErrorBody,
  type BatchRefusalReason,
} from './batch.exceptions.js';
export { BatchExecutor, type BatchRunContext } from './schedule/batch.executor.js';
export { BatchListener } from './decorators/batch-listener.decorator.js';
export type {
  BatchEnd,
  BatchEventListener,
  BatchFinishEvent,
  BatchOperationFinishEvent,
  BatchStartEvent,
} from './interfaces/batch-events.interface.js';
export {
  getBatchOperation,
  isBatchOperation,
  type BatchOperationInfo,
} from './dispatch/sub-request.marker.js';
export { AMBIENT_CREDENTIAL_HEADERS } from './policy/cross-site.rules.js';
export { SkipBatch } from './decorators/skip-batch.decorator.js';
export { isBatchEndpoint } from './policy/batch-endpoint.marker.js';
export type { BatchExcludedRoute } from './interfaces/batch-excluded-route.interface.js';
export type { BatchTransactionHook } from './interfaces/batch-transaction.interface.js';
export type { NativeBatchReply } from './formats/native.format.js';
export type { NdjsonBatchLine } from './formats/ndjson.encoder.js';
export type {
  BatchEntry,
  BatchMethod,
  BatchOperation,
  BatchOutcome,
  BatchResult,
  DecodedContentEncoding,
} from './interfaces/batch-operation.interface.js';
