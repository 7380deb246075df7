import {
  MaxPartsExceededError,
  MultipartParseError,
  parseMultipart,
} from '@remix-run/multipart-parser';
import type { IncomingHttpHeaders } from 'node:http';
import { randomBytes } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import {
  FORBIDDEN_OPERATION_HEADERS,
  JSON_MEDIA_TYPE,
  METHOD_OVERRIDE_HEADERS,
  TEXT_MEDIA_TYPE,
} from '../batch.constants.js';
import { BatchLimitExceededException, InvalidBatchException } from '../batch.exceptions.js';
import { isForwardingHeader } from '../operation/header.rules.js';
import { decodeOperations } from '../operation/operation.rules.js';
import type { BatchEntry } from '../interfaces/batch-operation.interface.js';
import type { DecodedBatch } from './batch-format.interface.js';
import { bodyBytes, canonical, setOwn } from './format.utils.js';
import { EmbeddedRequestError, parseEmbeddedRequest } from './embedded-request.parser.js';

/** The multipart/mixed batch request as read off the wire. */
export interface MultipartBatchRequest {
  readonly boundary: string;
  readonly bytes: Buffer;
  /** The batch request's own headers: they apply to every part that does not set its own. */
  readonly headers: IncomingHttpHeaders;
}

const CRLF = '\r\n';

/**
 * Outer headers a part never takes: they describe the batch request itself (its body, its
 * connection, what it accepts back, the method its own POST may be turned into), not the
 * operations inside it. Forwarding headers reach every operation from the batch request anyway.
 */
const NOT_INHERITED = new Set([
  ...FORBIDDEN_OPERATION_HEADERS,
  ...METHOD_OVERRIDE_HEADERS,
  'accept',
  'accept-encoding',
]);

/**
 * multipart/mixed (Google APIs, OData multipart, Flask-Batch): one `application/http` part per
 * operation, replied to in request order with `Content-ID: response-<id>`. Parsed by
 * @remix-run/multipart-parser, each part's request by http-parser-js. Accepts quoted and
 * unquoted boundaries, CRLF and LF line ends, parts with and without Content-ID; writes CRLF, an
 * unquoted boundary and a Content-ID on every part. A part never reaches another host: its Host
 * header is dropped and an absolute target is cut to its path, as Flask-Batch forces the host.
 */
export function decodeMultipart(request: MultipartBatchRequest, limit: number): DecodedBatch {
  const bytes = normalised(request.bytes, request.boundary);
  const problems: string[] = [];
  const contentIds: string[] = [];
  const native: Record<string, unknown>[] = [];
  const outer = inheritedHeaders(request.headers);
  try {
    for (const part of parseMultipart(bytes, {
      boundary: request.boundary,
      maxParts: limit,
      maxFileSize: bytes.length,
      maxTotalSize: bytes.length,
      maxHeaderSize: 16 * 1024,
    })) {
      const index = native.length;
      contentIds.push(contentIdOf(part.headers['content-id'], index));
      native.push(toNative(Buffer.from(part.bytes), outer, `part ${index + 1}`, problems));
    }
  } catch (error) {
    if (error instanceof MaxPartsExceededError) {
      throw new BatchLimitExceededException(limit + 1, limit);
    }
    if (!(error instanceof MultipartParseError)) throw error;
    throw new InvalidBatchException([`the multipart body cannot be read: ${error.message}`]);
  }
  if (problems.length > 0) throw new InvalidBatchException(problems);
  return {
    format: 'multipart',
    operations: decodeOperations(native, limit, 'parts'),
    encode: (entries) => encodeMultipart(entries, contentIds),
  };
}

/** The boundary of a `multipart/mixed; boundary=...` Content-Type, quoted or not. */
export function boundaryOf(parameters: readonly string[]): string | undefined {
  for (const parameter of parameters) {
    const match = /^boundary=(?:"([^"]+)"|(\S+))$/i.exec(parameter.trim());
    if (match) return match[1] ?? match[2];
  }
  return undefined;
}

/**
 * The body as the parser needs it: from the first boundary on (a preamble, which RFC 2046 says
 * to ignore, is dropped: some clients start with a blank line), and with CRLF line ends where a
 * client wrote LF (templates in JavaScript, hand-written bodies); CRLF bodies pass untouched.
 */
function normalised(bytes: Buffer, boundary: string): Buffer {
  const first = bytes.indexOf(`--${boundary}`);
  if (first === -1) return bytes;
  const body = bytes.subarray(first);
  if (body[boundary.length + 2] === 0x0d) return body;
  return Buffer.from(body.toString('latin1').replace(/\r?\n/g, CRLF), 'latin1');
}

function contentIdOf(header: string | undefined, index: number): string {
  const id = header?.trim().replace(/^<(.*)>$/, '$1');
  return id === undefined || id === '' ? String(index + 1) : id;
}

function inheritedHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const inherited: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (
      value === undefined ||
      name.startsWith('content-') ||
      // HTTP/2 pseudo-headers (`:authority`, `:path`, ...) belong to the batch request's stream.
      name.startsWith(':') ||
      NOT_INHERITED.has(name) ||
      isForwardingHeader(name)
    ) {
      continue;
    }
    inherited[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return inherited;
}

function toNative(
  part: Buffer,
  outer: Record<string, string>,
  label: string,
  problems: string[],
): Record<string, unknown> {
  let request;
  try {
    request = parseEmbeddedRequest(part);
  } catch (error) {
    if (!(error instanceof EmbeddedRequestError)) throw error;
    problems.push(`${label}: ${error.message}`);
    return {};
  }
  const headers: Record<string, string> = { ...outer };
  const own = new Set<string>();
  for (const [name, value] of request.headers) {
    const lower = name.toLowerCase();
    // The part's own framing: the boundary delimits its body, the batch's host is the host.
    if (lower === 'host' || lower === 'content-length') continue;
    // A part's own header replaces the outer one; repeated in the part, its values are joined.
    setOwn(headers, lower, own.has(lower) ? `${headers[lower] ?? ''}, ${value}` : value);
    own.add(lower);
  }
  const native: Record<string, unknown> = {
    method: request.method,
    url: originForm(request.target),
    headers,
  };
  // Whitespace alone is the line breaks clients leave before the next boundary.
  if (request.body.toString('latin1').trim() !== '') {
    const type = headers['content-type'];
    native.body =
      type === undefined || JSON_MEDIA_TYPE.test(type) || TEXT_MEDIA_TYPE.test(type)
        ? request.body.toString('utf8')
        : request.body;
    if (type === undefined) headers['content-type'] = 'application/json';
  }
  return native;
}

/** `https://other.example/items?x=1` -> `/items?x=1`: the batch's own host serves every part. */
function originForm(target: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) return target;
  try {
    const url = new URL(target);
    return `${url.pathname}${url.search}`;
  } catch {
    return target; // Refused by the url rules with a message naming it.
  }
}

function encodeMultipart(
  entries: readonly BatchEntry[],
  contentIds: readonly string[],
): { kind: 'bytes'; body: Buffer; contentType: string } {
  const boundary = `batch_${randomBytes(12).toString('hex')}`;
  const chunks: Buffer[] = [];
  entries.forEach((entry, index) => {
    const { code, headers, body } = partResponse(entry);
    const head = [
      `--${boundary}`,
      'Content-Type: application/http',
      `Content-ID: response-${contentIds[index] ?? String(index + 1)}`,
      '',
      `HTTP/1.1 ${code} ${STATUS_CODES[code] ?? ''}`.trimEnd(),
      ...Object.entries(headers).flatMap(([name, value]) =>
        (Array.isArray(value) ? value : [value]).map((one) => `${canonical(name)}: ${one}`),
      ),
      `Content-Length: ${body.length}`,
      '',
      '',
    ].join(CRLF);
    chunks.push(Buffer.from(head, 'latin1'), body, Buffer.from(CRLF));
  });
  chunks.push(Buffer.from(`--${boundary}--${CRLF}`));
  return {
    kind: 'bytes',
    body: Buffer.concat(chunks),
    contentType: `multipart/mixed; boundary=${boundary}`,
  };
}

/** An entry as the raw response a part carries. */
function partResponse(entry: BatchEntry): {
  code: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
} {
  if (entry === null) {
    const body = { statusCode: 504, message: 'The batch timed out before this request finished' };
    return {
      code: 504,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: Buffer.from(JSON.stringify(body)),
    };
  }
  const headers = { ...entry.headers };
  delete headers['content-length'];
  delete headers['transfer-encoding'];
  return { code: entry.code, headers, body: bodyBytes(entry) };
}
