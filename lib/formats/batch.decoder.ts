import type { IncomingMessage } from 'node:http';
import secureJson from 'secure-json-parse';
import {
  BatchBodyTooLargeException,
  InvalidBatchException,
  UnsupportedBatchFormatException,
} from '../batch.exceptions.js';
import type { ResolvedBatchOptions } from '../batch.options.js';
import type { BatchFormat } from '../batch.constants.js';
import type { DecodedBatch } from './batch-format.interface.js';
import { isRecord } from '../operation/json.value.js';
import { decodeFacebook, isFacebookForm } from './facebook.format.js';
import { decodeGraph } from './graph.format.js';
import { boundaryOf, decodeMultipart } from './multipart.format.js';
import { decodeNative } from './native.format.js';
import { wireBodyOf, type WireBody } from '../platform/wire-body.js';

/** Prototype-polluting keys fail the parse instead of being dropped, so nothing is lost silently. */
const SECURE = { protoAction: 'error', constructorAction: 'error' } as const;

/** How each format is sent, for messages that list what the endpoint accepts. */
const SHAPES: Record<BatchFormat, string> = {
  native: '{"data": [operations]} as application/json',
  facebook:
    '{"batch": [operations]} as application/json, or a batch= form field (urlencoded or without Content-Type)',
  graph: '{"requests": [requests]} as application/json (Microsoft Graph)',
  multipart: 'multipart/mixed with one application/http part per operation',
};

/**
 * Decodes a batch request in whichever of the enabled formats it is written: multipart/mixed by
 * its Content-Type, a form by its `batch` field (Facebook), JSON by its shape (`data`: native,
 * `requests`: Microsoft Graph, `batch`: Facebook). Works on the body as read off the wire; when
 * the library could not read it first, on what the app's own body parser made of it (JSON only).
 * @throws InvalidBatchException, BatchLimitExceededException, BatchBodyTooLargeException,
 *   UnsupportedBatchFormatException
 */
export function decodeBatchRequest(
  request: IncomingMessage,
  parsed: unknown,
  options: ResolvedBatchOptions,
): DecodedBatch {
  const wire = wireBodyOf(request);
  if (!wire) {
    if (Number(request.headers['content-length']) > options.maxBodyBytes) {
      throw new BatchBodyTooLargeException(options.maxBodyBytes);
    }
    if (typeof parsed === 'object' && parsed !== null)
      guard((): void => {
        secureJson.scan(parsed, SECURE);
      });
    return decodeJson(parsed, options);
  }
  const encoding = wire.contentEncoding?.trim().toLowerCase();
  if (encoding && encoding !== 'identity') {
    throw new UnsupportedBatchFormatException(
      `The batch body must not be compressed (Content-Encoding: ${encoding})`,
    );
  }
  const [type = '', ...parameters] = (wire.contentType ?? '').split(';');
  const mediaType = type.trim().toLowerCase();
  if (mediaType === 'application/json' || mediaType.endsWith('+json')) {
    requireUtf8(parameters);
    if (wire.bytes.length === 0) throw new InvalidBatchException([acceptedFormats(options)]);
    return decodeJson(parseJson(wire.bytes.toString('utf8')), options);
  }
  if (mediaType === 'multipart/mixed' && enabled(options, 'multipart')) {
    const boundary = boundaryOf(parameters);
    if (!boundary) {
      throw new InvalidBatchException(['a multipart/mixed batch needs a boundary parameter']);
    }
    return decodeMultipart(
      { boundary, bytes: wire.bytes, headers: request.headers, url: request.url },
      options.limit,
    );
  }
  if (mediaType === 'application/x-www-form-urlencoded' && enabled(options, 'facebook')) {
    requireUtf8(parameters);
    return decodeForm(wire, options);
  }
  // fbgraph and other Facebook clients post their form with no Content-Type, as Facebook takes it.
  if (mediaType === '' && enabled(options, 'facebook') && isFacebookForm(wire.bytes)) {
    return decodeForm(wire, options);
  }
  throw new UnsupportedBatchFormatException(
    `A batch cannot be sent as ${mediaType || 'a body without Content-Type'}. ${acceptedFormats(options)}`,
  );
}

/** A JSON batch, told apart by its one distinctive property. */
function decodeJson(json: unknown, options: ResolvedBatchOptions): DecodedBatch {
  if (isRecord(json)) {
    if ('data' in json && enabled(options, 'native')) return decodeNative(json, options.limit);
    if ('requests' in json && enabled(options, 'graph')) return decodeGraph(json, options.limit);
    if ('batch' in json && enabled(options, 'facebook')) {
      return decodeFacebook(
        { batch: json.batch, includeHeaders: json.include_headers },
        options.limit,
        parseJson,
      );
    }
  }
  throw new InvalidBatchException([acceptedFormats(options)]);
}

/** Facebook's form: `batch=<JSON array>&include_headers=false`. */
function decodeForm(wire: WireBody, options: ResolvedBatchOptions): DecodedBatch {
  const form = new URLSearchParams(wire.bytes.toString('utf8'));
  const batch = form.get('batch');
  if (batch === null) {
    throw new InvalidBatchException([
      `a form-encoded batch needs a batch field holding a JSON array. ${acceptedFormats(options)}`,
    ]);
  }
  return decodeFacebook(
    { batch, includeHeaders: form.get('include_headers') ?? undefined },
    options.limit,
    parseJson,
  );
}

function enabled(options: ResolvedBatchOptions, format: BatchFormat): boolean {
  return options.formats.includes(format);
}

function acceptedFormats(options: ResolvedBatchOptions): string {
  return `This endpoint accepts: ${options.formats.map((format) => SHAPES[format]).join('; ')}`;
}

function requireUtf8(parameters: readonly string[]): void {
  const charset = parameters
    .map((parameter) => parameter.trim().toLowerCase())
    .find((parameter) => parameter.startsWith('charset='));
  if (charset && !/^charset="?utf-?8"?$/.test(charset)) {
    throw new UnsupportedBatchFormatException(`A batch must be UTF-8, not ${charset}`);
  }
}

function parseJson(text: string): unknown {
  return guard(() => secureJson.parse(text, null, SECURE) as unknown);
}

/** secure-json-parse's SyntaxErrors as a 400 that says what was wrong. */
function guard<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    if (/forbidden (prototype|constructor)/.test(error.message)) {
      throw new InvalidBatchException([
        'the batch holds a "__proto__" key or a "constructor" key with a "prototype" inside; such keys are refused anywhere in a batch',
      ]);
    }
    throw new InvalidBatchException([`the batch body is not valid JSON: ${error.message}`]);
  }
}
