import { MaxPartsExceededError, MultipartParseError } from '@remix-run/multipart-parser';
import { isUtf8 } from 'node:buffer';
import type { IncomingHttpHeaders } from 'node:http';
import { randomBytes } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import {
  FORBIDDEN_OPERATION_HEADERS,
  JSON_MEDIA_TYPE,
  METHOD_OVERRIDE_HEADERS,
  TEXT_MEDIA_TYPE,
} from '../batch.constants.js';
import {
  BatchLimitExceededException,
  failureBody,
  InvalidBatchException,
} from '../batch.exceptions.js';
import { isBrowserOriginHeader, isForwardingHeader } from '../validation/header.rules.js';
import { decodeOperations } from '../validation/operation.rules.js';
import type { BatchEntry } from '../interfaces/batch-operation.interface.js';
import type { DecodedBatch } from './batch-format.interface.js';
import { bodyBytes } from './entry-body.encoder.js';
import { canonical } from './header.names.js';
import { setOwn } from '../validation/json.value.js';
import { ChangeSetError, parseChangeSet, type ChangeSetRequest } from './change-set.parser.js';
import { EmbeddedRequestError, parseEmbeddedRequest } from './embedded-request.parser.js';
import { readMultipartParts, type MultipartBodyPart } from './multipart-parts.reader.js';
import { resolveRelativeTarget } from './relative-target.resolver.js';

/** The multipart/mixed batch request as read off the wire. */
export interface MultipartBatchRequest {
  readonly boundary: string;
  readonly bytes: Buffer;
  /** The batch request's own headers: they apply to every part that does not set its own. */
  readonly headers: IncomingHttpHeaders;
  /** The batch request's own target: a relative part target (OData's `items/1`) resolves against it. */
  readonly url?: string;
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
 * Headers of an embedded request that describe a connection that does not exist: the part's own
 * framing delimits its body, and the batch's connection carries it. Clients copy them in from the
 * request they would have sent (Flask-Batch's client takes every header `requests` adds, such as
 * `Connection: keep-alive`), so they are ignored there, as `Host` is, instead of failing the batch.
 */
const EMBEDDED_FRAMING = new Set([
  'host',
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'upgrade',
  'transfer-encoding',
  'content-length',
]);

/**
 * A part's Content-ID, and the form the request wrote it in: in angle brackets (Google's
 * `<id>`), bare (OData's `1`), or not at all (then `id` is the part's 1-based position).
 */
interface ContentId {
  readonly id: string;
  readonly form: 'bracketed' | 'bare' | 'absent';
}

/**
 * multipart/mixed (Google APIs, OData multipart, Flask-Batch): one `application/http` part per
 * operation, replied to in request order, each with its Content-ID in the request's form (see
 * `replyContentId`). Parsed by @remix-run/multipart-parser (multipart-parts.reader.ts), each
 * part's request by http-parser-js. Accepts quoted and unquoted boundaries, CRLF and LF line ends
 * (a part's body is passed on as its bytes, either way), parts with and without Content-ID;
 * writes CRLF, an unquoted boundary and a Content-ID on every part. A part never reaches another
 * host: its Host header is dropped and an absolute target is cut to its path, as Flask-Batch
 * forces the host. Parts run one after another in request order unless `parallel` (the
 * `multipartParallel` option).
 */
export function decodeMultipart(
  request: MultipartBatchRequest,
  limit: number,
  parallel = false,
): DecodedBatch {
  const problems: string[] = [];
  const parts: ReplyPart[] = [];
  const native: Record<string, unknown>[] = [];
  const outer = inheritedHeaders(request.headers);
  try {
    for (const part of readMultipartParts(request.bytes, request.boundary, limit)) {
      const index = parts.length;
      const contentId = contentIdOf(part.headers['content-id'], index);
      if (part.mediaType?.toLowerCase() === 'multipart/mixed') {
        const requests = changeSetOf(part, index, limit, problems);
        parts.push({
          contentId,
          changeSet: requests.map(({ contentId: id, written }) => written ?? id),
        });
        for (const [position, changeRequest] of requests.entries()) {
          native.push(
            changeSetMember(changeRequest, position, requests, index, outer, problems, request.url),
          );
        }
        continue;
      }
      parts.push({ contentId });
      native.push(toNative(part.bytes, outer, `part ${index + 1}`, problems, request.url));
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
    // OData 4.01 Part 1 §11.7.2 and Flask-Batch run parts in order; Google leaves it open.
    sequential: !parallel,
    literalText: true,
    encode: (entries) => encodeMultipart(entries, parts),
  };
}

/** What the reply writes for one part of the request: a response, or a change set's. */
interface ReplyPart {
  readonly contentId: ContentId;
  /**
   * For a change set: the Content-IDs its responses carry (each request's as written, its number
   * when it had none), in order, each an operation of the batch.
   */
  readonly changeSet?: readonly string[];
}

/** The atomic group of the change set in part `index` (0-based). */
const changeSetGroup = (index: number): string => `changeset-${index + 1}`;

/** The operation name of request `position` (0-based) of the change set in part `index`. */
const changeSetName = (index: number, position: number): string =>
  `changeset-${index + 1}.${position + 1}`;

/** A change set part's requests, or none (the problem recorded) when it cannot be read. */
function changeSetOf(
  part: MultipartBodyPart,
  index: number,
  limit: number,
  problems: string[],
): readonly ChangeSetRequest[] {
  const label = `part ${index + 1}`;
  const boundary = boundaryOf((part.headers['content-type'] ?? '').split(';').slice(1));
  if (!boundary) {
    problems.push(`${label}: a change set (multipart/mixed part) needs a boundary parameter`);
    return [];
  }
  try {
    return parseChangeSet(part.bytes, boundary, limit).requests;
  } catch (error) {
    if (!(error instanceof ChangeSetError)) throw error;
    problems.push(`${label}, an OData change set: ${error.message}`);
    return [];
  }
}

/**
 * A request of a change set as an operation of the atomic group `changeset-<part>`, named
 * `changeset-<part>.<n>`. A `$<Content-ID>` target (OData 4.0 §11.7.3.1: the entity an earlier
 * request of the change set created) becomes a reference to that request's Location header.
 */
function changeSetMember(
  request: ChangeSetRequest,
  position: number,
  requests: readonly ChangeSetRequest[],
  index: number,
  outer: Record<string, string>,
  problems: string[],
  batchUrl: string | undefined,
): Record<string, unknown> {
  const label = `part ${index + 1}, request ${position + 1} of its change set`;
  const native = toNative(request.bytes, outer, label, problems, batchUrl);
  native.name = changeSetName(index, position);
  native.atomicityGroup = changeSetGroup(index);
  const { reference } = request;
  if (reference) {
    const target = requests.findIndex(({ contentId }) => contentId === reference.contentId);
    const rest = asText(reference.rest.replace(/^\/+(?=[^/?]|$)/, '/'));
    native.url = `/{result=${changeSetName(index, target)}:@location}${rest === '/' ? '' : rest}`;
  }
  return native;
}

/** The boundary of a `multipart/mixed; boundary=...` Content-Type, quoted or not. */
export function boundaryOf(parameters: readonly string[]): string | undefined {
  for (const parameter of parameters) {
    const match = /^boundary=(?:"([^"]+)"|(\S+))$/i.exec(parameter.trim());
    if (match) return match[1] ?? match[2];
  }
  return undefined;
}

/** The part's Content-ID, brackets removed but remembered: the reply answers in the same form. */
function contentIdOf(header: string | undefined, index: number): ContentId {
  const written = header?.trim() ?? '';
  const bracketed = /^<.*>$/.test(written);
  const id = bracketed ? written.slice(1, -1) : written;
  if (id === '') return { id: String(index + 1), form: 'absent' };
  return { id, form: bracketed ? 'bracketed' : 'bare' };
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
      isForwardingHeader(name) ||
      // Every operation carries the batch request's own (parent.context.ts).
      isBrowserOriginHeader(name) ||
      // Inherited as every format inherits it (`inheritHeaders`), so that the batch's jar gives
      // the parts after a login or a logout the cookies it left: copied in as the part's own, it
      // would be sent as written.
      name === 'cookie'
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
  batchUrl: string | undefined,
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
    if (EMBEDDED_FRAMING.has(lower)) continue;
    // A part's own header replaces the outer one; repeated in the part, its values are joined.
    setOwn(headers, lower, own.has(lower) ? `${headers[lower] ?? ''}, ${value}` : value);
    own.add(lower);
  }
  const native: Record<string, unknown> = {
    method: request.method,
    url: asText(originForm(request.target, batchUrl)),
    headers,
  };
  if (!isBlank(request.body)) {
    const type = headers['content-type'];
    native.body = carriedBody(request.body, type);
    if (type === undefined) headers['content-type'] = 'application/json';
  } else if (own.has('content-type')) {
    // MIME writers put a Content-Type on every part, body or not (Google's client writes
    // application/json on a DELETE); sent directly there would be none, and some parsers refuse
    // a declared JSON body that is empty (Fastify: 400).
    delete headers['content-type'];
  }
  return native;
}

/**
 * A url's `{result=` as text: the format's one reference is OData's `$1`, which the codec turns
 * into one itself; any other is percent-encoded (the app decodes the same path and query).
 */
function asText(url: string): string {
  return url.replaceAll('{result=', '%7Bresult=');
}

/**
 * Whether a part's body is whitespace alone: the line breaks clients leave before the next
 * boundary, not a body. Read up to its first other byte, never copied.
 */
function isBlank(body: Buffer): boolean {
  for (const byte of body) {
    // Space, tab, LF, CR: what clients leave there. Read as a latin1 string and trimmed, as it
    // was, it was copied whole to find its first byte.
    if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) return false;
  }
  return true;
}

/**
 * A part's body as the operation carries it. JSON and text (and a body of no declared type, sent
 * as JSON) as a string, its text (the format reads no reference in it: `literalText`); but only
 * when its bytes are UTF-8: decoded as UTF-8, another charset's bytes (`text/csv; charset=iso-8859-1`,
 * UTF-16) would each become U+FFFD. Those, and any other type's, go as the bytes they are, as the
 * native format's `"bodyEncoding": "base64"` gives them.
 */
function carriedBody(body: Buffer, type: string | undefined): string | Buffer {
  const text = type === undefined || JSON_MEDIA_TYPE.test(type) || TEXT_MEDIA_TYPE.test(type);
  return text && isUtf8(body) ? body.toString('utf8') : body;
}

/**
 * `https://other.example/items?x=1` -> `/items?x=1`: the batch's own host serves every part. A
 * relative target (`items/1`, as OData clients write them relative to the service root) resolves
 * against the batch request's url.
 */
function originForm(target: string, batchUrl = '/'): string {
  const absolute = /^[a-z][a-z0-9+.-]*:\/\//i.test(target);
  if (target.startsWith('/') || (!absolute && target.startsWith('$'))) return target;
  return resolveRelativeTarget(target, batchUrl);
}

function encodeMultipart(
  entries: readonly BatchEntry[],
  parts: readonly ReplyPart[],
): { kind: 'bytes'; body: Buffer; contentType: string } {
  const boundary = `batch_${randomBytes(12).toString('hex')}`;
  const chunks: Buffer[] = [];
  let at = 0;
  for (const part of parts) {
    chunks.push(Buffer.from(`--${boundary}${CRLF}`, 'latin1'));
    if (part.changeSet === undefined) {
      chunks.push(...responsePart(entries[at] ?? null, replyContentId(part.contentId)));
      at++;
      continue;
    }
    const members = entries.slice(at, at + part.changeSet.length);
    const ids = part.changeSet;
    at += ids.length;
    const failed = failedMember(members);
    if (failed !== undefined) {
      // OData 4.0 §11.7.4: a change set that failed answers one response, the failed request's.
      chunks.push(...responsePart(members[failed] ?? null, ids[failed] ?? String(failed + 1)));
      continue;
    }
    const inner = `changesetresponse_${randomBytes(12).toString('hex')}`;
    chunks.push(Buffer.from(`Content-Type: multipart/mixed; boundary=${inner}${CRLF}${CRLF}`));
    members.forEach((entry, position) => {
      chunks.push(Buffer.from(`--${inner}${CRLF}`, 'latin1'));
      // Inside a change set, a response carries its request's own Content-ID (OData 4.0 §11.7.4).
      chunks.push(...responsePart(entry, ids[position] ?? String(position + 1)));
    });
    chunks.push(Buffer.from(`--${inner}--${CRLF}`));
  }
  chunks.push(Buffer.from(`--${boundary}--${CRLF}`));
  return {
    kind: 'bytes',
    body: Buffer.concat(chunks),
    contentType: `multipart/mixed; boundary=${boundary}`,
  };
}

/**
 * The member a failed change set answers with: the one cut off (no entry), or the one that
 * failed rather than was rolled back because of another; `undefined` when all succeeded.
 */
function failedMember(members: readonly BatchEntry[]): number | undefined {
  const failing = members.findIndex(
    (entry) => entry === null || (entry.code >= 300 && reasonOf(entry) !== 'rolled-back'),
  );
  if (failing !== -1) return failing;
  const any = members.findIndex((entry) => entry === null || entry.code < 200 || entry.code >= 300);
  return any === -1 ? undefined : any;
}

function reasonOf(entry: NonNullable<BatchEntry>): unknown {
  const { body } = entry;
  return typeof body === 'object' && body !== null
    ? (body as { reason?: unknown }).reason
    : undefined;
}

/** What no header value on the wire may hold: Node's `setHeader` refuses these. */
const LINE_BREAKING = /[\r\n\0]/;

/** One `application/http` part: its MIME headers, the raw response, and the CRLF after it. */
function responsePart(entry: BatchEntry, contentId: string): Buffer[] {
  const { code, headers, body } = partResponse(entry);
  const head = [
    'Content-Type: application/http',
    `Content-ID: ${contentId}`,
    '',
    `HTTP/1.1 ${code} ${STATUS_CODES[code] ?? ''}`.trimEnd(),
    ...Object.entries(headers).flatMap(([name, value]) =>
      (Array.isArray(value) ? value : [value])
        // Written raw into the part's head: a value Node would refuse (CR, LF, NUL) would end
        // the line and start a header of its own. The capture keeps none; a listener or a
        // hand-built result might.
        .filter((one) => !LINE_BREAKING.test(one))
        .map((one) => `${canonical(name)}: ${one}`),
    ),
    `Content-Length: ${body.length}`,
    '',
    '',
  ].join(CRLF);
  return [Buffer.from(head, 'latin1'), body, Buffer.from(CRLF)];
}

/**
 * The Content-ID a reply part carries, in the form of the request's. Google's clients send
 * `<id>` and match only `<response-id>` (Google's batch documentation); OData clients send a
 * bare id and read it back as sent (OData 4.01 Part 1 §11.7.7.4: o.js parses it as a number).
 * A part sent without one (Flask-Batch's client, which matches by position) gets
 * `response-<position>`, as before either convention mattered.
 */
function replyContentId({ id, form }: ContentId): string {
  if (form === 'bracketed') return `<response-${id}>`;
  return form === 'bare' ? id : `response-${id}`;
}

/** An entry as the raw response a part carries. */
function partResponse(entry: BatchEntry): {
  code: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
} {
  if (entry === null) {
    const body = failureBody(
      504,
      'batch-timeout',
      'The batch timed out before this request finished',
    );
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
