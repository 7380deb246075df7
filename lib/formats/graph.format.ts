import { JSON_MEDIA_TYPE, TEXT_MEDIA_TYPE } from '../batch.constants.js';
import { InvalidBatchException } from '../batch.exceptions.js';
import { decodeOperations } from '../validation/operation.rules.js';
import type { BatchEntry } from '../interfaces/batch-operation.interface.js';
import { encodeJson, type DecodedBatch, type JsonReply } from './batch-format.interface.js';
import { bodyBytes, bodyJsonOf, objectJson } from './entry-body.encoder.js';
import { jsonTextOf } from '../operation/response-body.decoder.js';
import { canonical, headerOf } from './header.names.js';
import { isRecord } from '../validation/json.value.js';
import { decodeBase64Body } from '../validation/body-encoding.rules.js';
import { hasScheme, resolveRelativeTarget } from './relative-target.resolver.js';

/** One entry of the Microsoft Graph reply. */
interface GraphResponse {
  id: string;
  /** Present when the request was in an atomicity group (OData 4.01 JSON batch). */
  atomicityGroup?: string;
  status: number;
  headers: Record<string, string>;
  body?: unknown;
}

/**
 * Microsoft Graph JSON batching (OData 4.01 JSON batch): `requests` with `id`/`dependsOn` in,
 * `responses` with `id`/`status`/`headers`/`body` out, in request order (clients match by id).
 * An id is the operation's name, so references `{result=<id>:...}` work too. `atomicityGroup`
 * makes the requests sharing it one atomic group, and `dependsOn` may name a group; each
 * response of a group carries its `atomicityGroup`, and in a failed group the request that
 * failed keeps its status while the others answer 424, as OData 4.01 allows. A non-JSON body
 * travels base64-encoded both ways; `Content-Type` is spelled so, because
 * `@microsoft/microsoft-graph-client` reads that exact key.
 */
export function decodeGraph(
  json: Record<string, unknown>,
  limit: number,
  batchUrl?: string,
): DecodedBatch {
  const { requests } = json;
  if (!Array.isArray(requests)) {
    throw new InvalidBatchException(['requests must be an array of requests']);
  }
  const problems: string[] = [];
  const seen = new Set<string>();
  const ids = requests.map((item: unknown, index) => {
    const id = isRecord(item) ? item.id : undefined;
    if (typeof id !== 'string' || id === '') {
      problems.push(`requests.${index}.id must be a non-empty string`);
      return '';
    }
    if (seen.has(id)) problems.push(`requests.${index}.id "${id}" is not unique`);
    seen.add(id);
    return id;
  });
  const groups = requests.map((item: unknown) =>
    isRecord(item) && typeof item.atomicityGroup === 'string' ? item.atomicityGroup : undefined,
  );
  const native = requests.map((item: unknown, index) =>
    isRecord(item) ? toNative(item, `requests.${index}`, problems, seen, batchUrl) : item,
  );
  if (problems.length > 0) throw new InvalidBatchException(problems);
  const reply: JsonReply = {
    open: '{"responses":[',
    close: ']}',
    entry: (index, entry) => {
      const response = toGraphResponse(ids[index] ?? '', entry, groups[index]);
      // The app's JSON text (or the base64) when the response carries the entry's body; the
      // text's value is not read (it is parsed only when something reads it).
      const text =
        entry && (response.body === APP_JSON_TEXT || response.body === entry.body)
          ? bodyJsonOf(entry)
          : undefined;
      return objectJson(response, text);
    },
  };
  return {
    format: 'graph',
    operations: decodeOperations(native, limit, 'requests'),
    json: reply,
    encode: (entries) => encodeJson(reply, entries),
  };
}

/** In a response's `body`: the entry's JSON text goes there as the app wrote it (`objectJson`). */
const APP_JSON_TEXT: unknown = Symbol('app JSON text');

/** `$1/orders`: OData 4.01's url naming the entity request `1` created or returned. */
const ENTITY_REFERENCE = /^\$([^/?]+)(.*)$/;

/**
 * A url as the operation takes it. `$<id><rest>` whose id is a request of the batch (OData 4.01
 * JSON §19.1; not a system resource such as `$metadata`, which no request id can be here)
 * becomes a reference to that request's Location header, as a change set's `$<Content-ID>`
 * does. A relative url (`TodoItems(3)`, as `@odata/client` writes them; `me`, as Microsoft's
 * client sometimes does) resolves against the batch url, the service root (§19.1).
 */
function nativeUrl(url: unknown, ids: ReadonlySet<string>, batchUrl: string | undefined): unknown {
  if (typeof url !== 'string') return url;
  const entity = ENTITY_REFERENCE.exec(url);
  if (entity && ids.has(entity[1] ?? '')) {
    const rest = (entity[2] ?? '').replace(/^\/+(?=[^/?]|$)/, '/');
    return `/{result=${entity[1] ?? ''}:@location}${rest === '/' ? '' : rest}`;
  }
  return url.startsWith('/') || hasScheme(url) ? url : resolveRelativeTarget(url, batchUrl);
}

function toNative(
  item: Record<string, unknown>,
  path: string,
  problems: string[],
  ids: ReadonlySet<string>,
  batchUrl: string | undefined,
): Record<string, unknown> {
  const { url, headers, body } = item;
  const native: Record<string, unknown> = {
    method: item.method,
    url: nativeUrl(url, ids, batchUrl),
    headers,
    name: item.id,
  };
  if (item.dependsOn !== undefined) native.dependsOn = item.dependsOn;
  if (item.atomicityGroup !== undefined) native.atomicityGroup = item.atomicityGroup;
  if (body !== undefined && body !== null) {
    const type = headerOf(headers, 'content-type');
    if (type === undefined || JSON_MEDIA_TYPE.test(type)) native.body = body;
    else {
      // Checked as the native format checks `bodyEncoding: "base64"`: a typo is a 400, not
      // other bytes.
      const bytes = decodeBase64Body(body, path, problems, ': its Content-Type is not JSON');
      if (bytes) native.body = TEXT_MEDIA_TYPE.test(type) ? bytes.toString('utf8') : bytes;
    }
  }
  return native;
}

function toGraphResponse(
  id: string,
  entry: BatchEntry,
  atomicityGroup: string | undefined,
): GraphResponse {
  const response = toResponse(id, entry);
  return atomicityGroup === undefined ? response : { ...response, atomicityGroup };
}

function toResponse(id: string, entry: BatchEntry): GraphResponse {
  if (entry === null) {
    // Graph has no empty entry: an operation cut off by the batch timeout is a 504.
    return {
      id,
      status: 504,
      headers: { 'Content-Type': 'application/json' },
      body: {
        error: { code: 'timeout', message: 'The batch timed out before this request finished' },
      },
    };
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(entry.headers)) {
    headers[canonical(name)] = Array.isArray(value) ? value.join(', ') : value;
  }
  const response: GraphResponse = { id, status: entry.code, headers };
  const text = jsonTextOf(entry);
  if (text === undefined && entry.body === undefined) return response;
  const type = headers['Content-Type'] ?? '';
  if (entry.bodyEncoding === 'base64') response.body = entry.body;
  else if (JSON_MEDIA_TYPE.test(type))
    response.body = text === undefined ? entry.body : APP_JSON_TEXT;
  else response.body = bodyBytes(entry).toString('base64');
  return response;
}
