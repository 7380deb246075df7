import type { IncomingMessage } from 'node:http';
import {
  BatchBodyTooLargeException,
  InvalidBatchException,
  UnsupportedBatchFormatException,
} from '../batch.exceptions.js';
import type { ResolvedBatchOptions } from '../batch.options.js';
import { wireBodyOf } from '../platform/wire-body.stash.js';
import type { DecodedBatch } from './batch-format.interface.js';
import { BATCH_FORMAT_REGISTRY, type IncomingBatch } from './format.registry.js';
import { parseBatchJson, scanBatchJson } from './secure.json.js';

/**
 * Decodes a batch request in whichever of the enabled formats it is written, asking each format
 * of the registry in turn (format.registry.ts). Works on the body as read off the wire; when the
 * library could not read it first, on what the app's own body parser made of it (JSON only).
 * @throws InvalidBatchException, BatchLimitExceededException, BatchBodyTooLargeException,
 *   UnsupportedBatchFormatException
 */
export function decodeBatchRequest(
  request: IncomingMessage,
  /** What the app's own body parser made of the body: read only when the library did not read it. */
  parsed: () => unknown,
  options: ResolvedBatchOptions,
): DecodedBatch {
  const batch = incomingBatch(request, parsed, options);
  const enabled = BATCH_FORMAT_REGISTRY.filter((format) => options.formats.includes(format.name));
  const format = enabled.find((candidate) => candidate.matches(batch));
  if (format) return format.decode(batch, options);
  const accepted = acceptedFormats(options);
  // JSON in no enabled shape is a bad batch; any other body is in no format spoken here.
  if (batch.mediaType === 'application/json' || batch.mediaType.endsWith('+json')) {
    throw new InvalidBatchException([accepted]);
  }
  throw new UnsupportedBatchFormatException(
    `A batch cannot be sent as ${batch.mediaType || 'a body without Content-Type'}. ${accepted}`,
  );
}

/** The request as the formats see it, after the checks every format shares. */
function incomingBatch(
  request: IncomingMessage,
  appParsed: () => unknown,
  options: ResolvedBatchOptions,
): IncomingBatch {
  const wire = wireBodyOf(request);
  const { headers, url } = request;
  if (!wire) {
    if (Number(request.headers['content-length']) > options.maxBodyBytes) {
      throw new BatchBodyTooLargeException(options.maxBodyBytes);
    }
    const parsed = appParsed();
    scanBatchJson(parsed);
    // What the app's parser made of the body is a JSON value, whatever it was sent as.
    return {
      headers,
      url,
      mediaType: 'application/json',
      parameters: [],
      bytes: undefined,
      json: () => parsed,
    };
  }
  const encoding = wire.contentEncoding?.trim().toLowerCase();
  if (encoding && encoding !== 'identity') {
    throw new UnsupportedBatchFormatException(
      `The batch body must not be compressed (Content-Encoding: ${encoding})`,
    );
  }
  const [type = '', ...parameters] = (wire.contentType ?? '').split(';');
  const mediaType = type.trim().toLowerCase();
  const textual =
    mediaType === 'application/json' ||
    mediaType.endsWith('+json') ||
    mediaType === 'application/x-www-form-urlencoded';
  if (textual) requireUtf8(parameters);
  let json: { value: unknown } | undefined;
  // Spelled out, not spread from a shared base: the spread cost more than the rest of this
  // function (in a profile of a batch's fixed cost).
  return {
    headers,
    url,
    mediaType,
    parameters,
    bytes: wire.bytes,
    json: () => {
      if (wire.bytes.length === 0) {
        throw new InvalidBatchException([`the batch body is empty. ${acceptedFormats(options)}`]);
      }
      json ??= { value: parseBatchJson(wire.bytes.toString('utf8')) };
      return json.value;
    },
  };
}

/** The formats the endpoint accepts, in the order of the `formats` option, for messages. */
function acceptedFormats(options: ResolvedBatchOptions): string {
  const shapes = options.formats.map(
    (name) => BATCH_FORMAT_REGISTRY.find((format) => format.name === name)?.shape ?? name,
  );
  return `This endpoint accepts: ${shapes.join('; ')}`;
}

function requireUtf8(parameters: readonly string[]): void {
  const charset = parameters
    .map((parameter) => parameter.trim().toLowerCase())
    .find((parameter) => parameter.startsWith('charset='));
  if (charset && !/^charset="?utf-?8"?$/.test(charset)) {
    throw new UnsupportedBatchFormatException(`A batch must be UTF-8, not ${charset}`);
  }
}
