import type { IncomingHttpHeaders } from 'node:http';
import { InvalidBatchException } from '../batch.exceptions.js';
import type { BatchFormat } from '../batch.constants.js';
import type { ResolvedBatchOptions } from '../batch.options.js';
import { isRecord } from '../validation/json.value.js';
import type { DecodedBatch } from './batch-format.interface.js';
import { decodeFacebook, isFacebookForm } from './facebook.format.js';
import { decodeGraph } from './graph.format.js';
import { boundaryOf, decodeMultipart } from './multipart.format.js';
import { decodeNative } from './native.format.js';
import { parseBatchJson } from './secure.json.js';

/** A batch request as the formats look at it. */
export interface IncomingBatch {
  /** The Content-Type's media type, lower case; `''` without one. */
  readonly mediaType: string;
  /** The Content-Type's parameters, as written (`boundary=...`, `charset=...`). */
  readonly parameters: readonly string[];
  /** The body off the wire; undefined when the app's own parser read it (then JSON only). */
  readonly bytes: Buffer | undefined;
  /** The body as JSON, parsed at most once, on first use. @throws InvalidBatchException */
  json(): unknown;
  readonly headers: IncomingHttpHeaders;
  /** The batch request's url, against which relative part targets resolve. */
  readonly url: string | undefined;
}

/** One wire format the endpoint speaks. */
export interface BatchFormatDefinition {
  readonly name: BatchFormat;
  /** How it is sent, for messages that list what the endpoint accepts. */
  readonly shape: string;
  /** True when the request is in this format. Formats are asked in the order of the registry. */
  matches(batch: IncomingBatch): boolean;
  /** @throws InvalidBatchException, BatchLimitExceededException */
  decode(batch: IncomingBatch, options: ResolvedBatchOptions): DecodedBatch;
}

const isJson = (batch: IncomingBatch): boolean =>
  batch.mediaType === 'application/json' || batch.mediaType.endsWith('+json');

/** A JSON batch with this key at the top: each JSON format has one distinctive property. */
const jsonWith =
  (key: string) =>
  (batch: IncomingBatch): boolean => {
    if (!isJson(batch)) return false;
    const json = batch.json();
    return isRecord(json) && key in json;
  };

const isForm = (batch: IncomingBatch): boolean =>
  batch.mediaType === 'application/x-www-form-urlencoded' ||
  // fbgraph and other Facebook clients post their form with no Content-Type, as Facebook takes it.
  (batch.mediaType === '' && batch.bytes !== undefined && isFacebookForm(batch.bytes));

/** Facebook's form: `batch=<JSON array>&include_headers=false`. */
function decodeFacebookForm(batch: IncomingBatch, options: ResolvedBatchOptions): DecodedBatch {
  const form = new URLSearchParams(batch.bytes?.toString('utf8') ?? '');
  const field = form.get('batch');
  if (field === null) {
    throw new InvalidBatchException([
      'a form-encoded batch needs a batch field holding a JSON array',
    ]);
  }
  return decodeFacebook(
    { batch: field, includeHeaders: form.get('include_headers') ?? undefined },
    options.limit,
    parseBatchJson,
  );
}

/**
 * Every format, in the order they are asked: to add one, add its definition here (and its name
 * to BATCH_FORMATS). Multipart and forms are told apart by Content-Type, the JSON formats by
 * their one distinctive property.
 */
export const BATCH_FORMAT_REGISTRY: readonly BatchFormatDefinition[] = [
  {
    name: 'multipart',
    shape: 'multipart/mixed with one application/http part per operation',
    matches: (batch) => batch.mediaType === 'multipart/mixed' && batch.bytes !== undefined,
    decode: (batch, options) => {
      const boundary = boundaryOf(batch.parameters);
      if (!boundary) {
        throw new InvalidBatchException(['a multipart/mixed batch needs a boundary parameter']);
      }
      return decodeMultipart(
        { boundary, bytes: batch.bytes ?? Buffer.alloc(0), headers: batch.headers, url: batch.url },
        options.limit,
        options.multipartParallel,
      );
    },
  },
  {
    name: 'native',
    shape: '{"data": [operations]} as application/json',
    matches: jsonWith('data'),
    decode: (batch, options) => decodeNative(batch.json(), options.limit),
  },
  {
    name: 'graph',
    shape: '{"requests": [requests]} as application/json (Microsoft Graph)',
    matches: jsonWith('requests'),
    decode: (batch, options) =>
      decodeGraph(batch.json() as Record<string, unknown>, options.limit, batch.url),
  },
  {
    name: 'facebook',
    shape:
      '{"batch": [operations]} as application/json, or a batch= form field (urlencoded or without Content-Type)',
    matches: (batch) => jsonWith('batch')(batch) || isForm(batch),
    decode: (batch, options) => {
      if (!isJson(batch)) return decodeFacebookForm(batch, options);
      const json = batch.json() as Record<string, unknown>;
      return decodeFacebook(
        { batch: json.batch, includeHeaders: json.include_headers },
        options.limit,
        parseBatchJson,
      );
    },
  },
];
