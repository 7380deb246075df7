// nestjs-batch/client: the browser- and Node-friendly client. No Nest, no Node-only imports.
export { BatchClient } from './batch.client.js';
export { BatchEntryMissingError, BatchRejectedError } from './client.errors.js';
export { ref } from './client.reference.js';
export type {
  PipelinedHeaderName,
  PipelinedPath,
  PipelinedResponse,
} from './pipelined.response.js';
export type {
  BatchClientOptions,
  BatchRequestInit,
  FetchCredentials,
  FetchHeadersInit,
  FetchInit,
  FetchInput,
  BatchEntryOutcome,
} from './client.types.js';
export type {
  BatchEntry,
  BatchMethod,
  BatchResult,
} from '../interfaces/batch-operation.interface.js';
