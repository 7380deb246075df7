import { PayloadTooLargeException, UnsupportedMediaTypeException } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import secureJson from 'secure-json-parse';
import { InvalidBatchException } from '../batch.exceptions.js';
import type { ResolvedBatchOptions } from '../batch.options.js';
import type { BatchOperation } from '../interfaces/batch-operation.interface.js';
import { wireBodyOf, type WireBody } from './body.reader.js';
import { decodeNativeBatch, NATIVE_ENVELOPE } from './native.decoder.js';

/** Prototype-polluting keys fail the parse instead of being dropped, so nothing is lost silently. */
const SECURE = { protoAction: 'error', constructorAction: 'error' } as const;

/**
 * The operations of a batch request: from the body as read off the wire when the library read it,
 * else from what the app's own body parser made of it (adapters without the body reader).
 * @throws InvalidBatchException, BatchLimitExceededException, PayloadTooLargeException,
 *   UnsupportedMediaTypeException
 */
export function decodeBatchRequest(
  request: IncomingMessage,
  parsed: unknown,
  options: ResolvedBatchOptions,
): BatchOperation[] {
  const wire = wireBodyOf(request);
  if (wire) return decodeNativeBatch(parseJson(wire), options.limit);
  if (Number(request.headers['content-length']) > options.maxBodySize) {
    throw new PayloadTooLargeException(
      `The batch body may be at most ${options.maxBodySize} bytes (maxBodySize)`,
    );
  }
  if (typeof parsed === 'object' && parsed !== null)
    guard((): void => {
      secureJson.scan(parsed, SECURE);
    });
  return decodeNativeBatch(parsed, options.limit);
}

function parseJson(wire: WireBody): unknown {
  const encoding = wire.contentEncoding?.trim().toLowerCase();
  if (encoding && encoding !== 'identity') {
    throw new UnsupportedMediaTypeException(
      `The batch body must not be compressed (Content-Encoding: ${encoding})`,
    );
  }
  const [type = '', ...parameters] = (wire.contentType ?? '').toLowerCase().split(';');
  const mediaType = type.trim();
  if (mediaType !== 'application/json' && !mediaType.endsWith('+json')) {
    throw new UnsupportedMediaTypeException(
      `A batch must be sent as application/json, not ${mediaType || 'a body without Content-Type'}`,
    );
  }
  const charset = parameters
    .map((parameter) => parameter.trim())
    .find((parameter) => parameter.startsWith('charset='));
  if (charset && !/^charset="?utf-?8"?$/.test(charset)) {
    throw new UnsupportedMediaTypeException(`A batch must be UTF-8, not ${charset}`);
  }
  if (wire.bytes.length === 0) throw new InvalidBatchException([NATIVE_ENVELOPE]);
  return guard(() => secureJson.parse(wire.bytes.toString('utf8'), null, SECURE) as unknown);
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
