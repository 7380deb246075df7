import { isUtf8 } from 'node:buffer';
import { JSON_MEDIA_TYPE, TEXT_MEDIA_TYPE } from '../batch.constants.js';
import { InvalidBatchException } from '../batch.exceptions.js';
import { decodeOperations } from '../validation/operation.rules.js';
import type { BatchEntry, BatchResult } from '../interfaces/batch-operation.interface.js';
import { isSuccess } from '../schedule/operation.results.js';
import { encodeJson, type DecodedBatch, type JsonReply } from './batch-format.interface.js';
import { jsonTextOf } from '../operation/response-body.decoder.js';
import { canonical, headerOf } from './header.names.js';
import { isRecord, setOwn } from '../validation/json.value.js';

/** What a Facebook Graph batch request carries besides its operations. */
export interface FacebookBatchParameters {
  /** The `batch` parameter: a JSON array, or that array JSON-encoded in a string. */
  readonly batch: unknown;
  /** `include_headers`: `false` (or `"false"`) drops the headers of every entry. */
  readonly includeHeaders?: unknown;
}

/** One entry of Facebook's reply: the body always a string, the headers a list. */
interface FacebookEntry {
  code: number;
  headers?: { name: string; value: string }[];
  body?: string;
}

const FORM = 'application/x-www-form-urlencoded';

/**
 * Facebook Graph batch: `relative_url` without a leading slash, form-encoded bodies, headers as
 * a list, `name`/`depends_on`, `omit_response_on_success` (true by default for an operation
 * others depend on, as on Facebook: decided in `encode`, from the plan given to `planned`). The reply is the bare array of entries, `body` a string.
 * @param parse Parses the `batch` parameter when it came as a string, by the batch's JSON rules.
 */
export function decodeFacebook(
  parameters: FacebookBatchParameters,
  limit: number,
  parse: (json: string) => unknown,
): DecodedBatch {
  const batch = typeof parameters.batch === 'string' ? parse(parameters.batch) : parameters.batch;
  if (!Array.isArray(batch)) {
    throw new InvalidBatchException(['batch must be a JSON array of operations']);
  }
  const problems: string[] = [];
  const native = batch.map((item: unknown, index) =>
    isRecord(item) ? toNative(item, `batch.${index}`, problems) : item,
  );
  if (problems.length > 0) throw new InvalidBatchException(problems);
  const operations = decodeOperations(native, limit, 'batch');
  const includeHeaders = !(
    parameters.includeHeaders === false || parameters.includeHeaders === 'false'
  );
  // Facebook omits the entry of a successful operation another one depends on, unless it says
  // `omit_response_on_success: false`. The planner knows who depends on whom (`depends_on` and
  // references anywhere in the operation); without a plan, nothing is depended on.
  let dependedOn: ReadonlySet<number> = new Set();
  const reply: JsonReply = {
    open: '[',
    close: ']',
    entry: (index, entry) =>
      JSON.stringify(
        entry !== null &&
          isSuccess(entry.code) &&
          dependedOn.has(index) &&
          // toNative copies omit_response_on_success only when it is a boolean: undefined is unsaid.
          operations[index]?.omitResponseOnSuccess === undefined
          ? null
          : toFacebookEntry(entry, includeHeaders),
      ),
  };
  return {
    format: 'facebook',
    operations,
    planned: (dependents) => {
      dependedOn = new Set(dependents.flatMap((waiting, index) => (waiting.length ? [index] : [])));
    },
    json: reply,
    encode: (entries) => encodeJson(reply, entries),
  };
}

/**
 * True when a body sent without Content-Type is Facebook's form: urlencoded fields, one of them
 * `batch`, as fbgraph posts it. Nothing else is read without a Content-Type: a JSON body (which
 * could hold `&batch=` inside a string) is not a form. A top-level `access_token` field, which
 * Facebook applies to every operation that has none, is ignored: it is neither passed on nor a
 * credential here.
 */
export function isFacebookForm(bytes: Buffer): boolean {
  const text = bytes.toString('utf8');
  if (/^\s*[[{"]/.test(text)) return false;
  return new URLSearchParams(text).has('batch');
}

/** A Facebook operation in the native shape, for the shared validation. */
function toNative(
  item: Record<string, unknown>,
  path: string,
  problems: string[],
): Record<string, unknown> {
  const { relative_url: relativeUrl, depends_on: dependsOn, headers, body } = item;
  const native: Record<string, unknown> = {
    method: item.method ?? 'GET',
    url: typeof relativeUrl === 'string' ? `/${relativeUrl.replace(/^\/+/, '')}` : relativeUrl,
    headers: toHeaderObject(headers, `${path}.headers`, problems),
  };
  if (item.name !== undefined) native.name = item.name;
  if (dependsOn !== undefined)
    native.dependsOn = typeof dependsOn === 'string' ? [dependsOn] : dependsOn;
  if (typeof item.omit_response_on_success === 'boolean') {
    native.omitResponseOnSuccess = item.omit_response_on_success;
  }
  if (body !== undefined && body !== null) {
    native.body = body;
    // Facebook's bodies are forms: `name=a&qty=1`.
    if (typeof body === 'string' && headerOf(native.headers, 'content-type') === undefined) {
      native.headers = { ...(native.headers as object), 'content-type': FORM };
    }
  }
  return native;
}

/** Headers as Facebook clients send them: `[{ name, value }]`, `["Name: value"]` or an object. */
function toHeaderObject(headers: unknown, path: string, problems: string[]): unknown {
  if (!Array.isArray(headers)) return headers;
  const object: Record<string, unknown> = {};
  headers.forEach((header: unknown, index) => {
    if (typeof header === 'string') {
      const colon = header.indexOf(':');
      if (colon > 0) setOwn(object, header.slice(0, colon).trim(), header.slice(colon + 1).trim());
      else problems.push(`${path}.${index} must be "Name: value" or { "name", "value" }`);
    } else if (isRecord(header) && typeof header.name === 'string') {
      setOwn(object, header.name, header.value);
    } else problems.push(`${path}.${index} must be "Name: value" or { "name", "value" }`);
  });
  return object;
}

function toFacebookEntry(entry: BatchEntry, includeHeaders: boolean): FacebookEntry | null {
  if (entry === null) return null;
  const reply: FacebookEntry = { code: entry.code };
  if (includeHeaders) {
    reply.headers = Object.entries(entry.headers).flatMap(([name, value]) =>
      (Array.isArray(value) ? value : [value]).map((one) => ({
        name: canonical(name),
        value: one,
      })),
    );
  }
  if (jsonTextOf(entry) !== undefined || entry.body !== undefined) reply.body = facebookBody(entry);
  return reply;
}

/**
 * The body as the response's text: Facebook's format has no body encoding, so its clients read
 * `body` as text. A textual body the library carried in base64 (control bytes, which JSON
 * escapes at 6 bytes each) is given back as its text when it is UTF-8; anything else stays base64.
 */
function facebookBody(entry: BatchResult): string {
  // The app's JSON text, as a direct client reads it.
  const text = jsonTextOf(entry);
  if (text !== undefined) return text;
  if (typeof entry.body !== 'string') return JSON.stringify(entry.body);
  if (entry.bodyEncoding !== 'base64') return entry.body;
  const type = headerOf(entry.headers, 'content-type') ?? '';
  if (!JSON_MEDIA_TYPE.test(type) && !TEXT_MEDIA_TYPE.test(type)) return entry.body;
  const bytes = Buffer.from(entry.body, 'base64');
  return isUtf8(bytes) ? bytes.toString('utf8') : entry.body;
}
