import {
  base64ChunksOf,
  type DecodedChunks,
  JsonTextResult,
  jsonTextOf,
} from '../operation/response-body.decoder.js';
import { BATCH_METHODS } from '../batch.constants.js';
import type { BatchEntry, BatchResult } from '../interfaces/batch-operation.interface.js';

/** The bytes of a response body as the entry carries it (the app's JSON text, text or base64). */
export function bodyBytes(result: BatchResult): Buffer {
  // The app's JSON text, its value not read (it is parsed only when read).
  const text = jsonTextOf(result);
  if (text !== undefined) return Buffer.from(text);
  const { body } = result;
  if (body === undefined) return Buffer.alloc(0);
  if (typeof body !== 'string') return Buffer.from(JSON.stringify(body));
  return Buffer.from(body, result.bodyEncoding === 'base64' ? 'base64' : 'utf8');
}

/**
 * `value` as JSON, `JSON.stringify`'s output but for its `body`, which is `text` as it is when
 * given: the app's JSON text, checked to parse, written as it came (key order, numbers,
 * spacing) and not stringified again. `lead` is written first inside the object
 * (`"index":3,`).
 */
export function objectJson(value: object, text: string | undefined, lead = ''): string {
  let inner: string;
  if (text === undefined) {
    const json = JSON.stringify(value);
    if (lead === '') return json;
    inner = json.slice(1, -1);
  } else {
    inner = '';
    for (const key in value) {
      // The body is not read: a decoded body's base64 is made only when it is.
      const item = key === 'body' ? undefined : (value as Record<string, unknown>)[key];
      const json = key === 'body' ? text : item === undefined ? undefined : JSON.stringify(item);
      if (json === undefined) continue;
      inner += `${inner === '' ? '' : ','}${JSON.stringify(key)}:${json}`;
    }
  }
  // `lead` ends with a comma, which an empty object does not take.
  return inner === '' ? `{${lead.slice(0, -1)}}` : `{${lead}${inner}}`;
}

/**
 * A native entry as JSON: `null`, or the result with its body as the app's JSON text. `oneLine`:
 * for a line of NDJSON, where the text's line breaks (whitespace between its tokens: JSON
 * escapes them inside strings) are written as spaces, the same number of bytes.
 */
export function entryJson(entry: BatchEntry, lead = '', oneLine = false): string {
  if (entry === null) return lead === '' ? 'null' : `{${lead}"entry":null}`;
  if (entry instanceof JsonTextResult) {
    const text = JsonTextResult.textOf(entry);
    if (text !== undefined)
      return textResultJson(entry, oneLine ? withoutLineBreaks(text) : text, lead);
  }
  const text = bodyJsonOf(entry);
  return objectJson(entry, oneLine && text !== undefined ? withoutLineBreaks(text) : text, lead);
}

/**
 * JSON text in three parts, `before`, `ascii` and `after`, to be read as their concatenation:
 * an entry around a large base64 body, kept apart so that the body is never copied into one
 * more string of megabytes (concatenated, V8 would copy all of it again to flatten it before
 * it could be written out), but written into the reply's bytes as it is.
 */
export class SplicedJson {
  constructor(
    readonly before: string,
    /**
     * ASCII only: written one byte a character. Or the decoded chunks whose base64 it is: then
     * written a chunk at a time, never made one string.
     */
    readonly body: string | DecodedChunks,
    readonly after: string,
  ) {}

  /** The ASCII part as one string (made from the chunks, when it is theirs). */
  get ascii(): string {
    return typeof this.body === 'string' ? this.body : this.body.base64();
  }

  toString(): string {
    return `${this.before}${this.ascii}${this.after}`;
  }
}

/** Characters of base64 from which an entry keeps its body apart (see {@link SplicedJson}). */
const SPLICED_BODY = 64 * 1024;

/**
 * A native entry as {@link entryJson} writes it, with a large base64 body kept apart: the
 * entry is written with a NUL character in the body's place, which `JSON.stringify` never
 * writes unescaped, and cut there.
 */
export function entryJsonSpliced(entry: BatchEntry): string | SplicedJson {
  // Only a base64 body is ever kept apart: the others, most entries, look nothing up.
  if (entry === null || entry.bodyEncoding !== 'base64') return entryJson(entry);
  const chunks = base64ChunksOf(entry);
  if (chunks !== undefined) {
    if (chunks.base64Length < SPLICED_BODY) return entryJson(entry);
    return spliced(entry, chunks);
  }
  if (typeof entry.body !== 'string' || entry.body.length < SPLICED_BODY) return entryJson(entry);
  return spliced(entry, entry.body);
}

/** The entry written with a NUL character in its body's place, cut there. */
function spliced(entry: BatchResult, body: string | DecodedChunks): SplicedJson {
  const json = objectJson(entry, '"\0"');
  const at = json.indexOf('\0');
  return new SplicedJson(json.slice(0, at), body, json.slice(at + 1));
}

/**
 * The JSON of an entry's body when it is known without `JSON.stringify`: the app's JSON text, or
 * base64 quoted (its alphabet needs no escape, and a body of megabytes is not scanned for one).
 */
export function bodyJsonOf(entry: BatchResult): string | undefined {
  if (entry.bodyEncoding === 'base64' && typeof entry.body === 'string') return `"${entry.body}"`;
  return jsonTextOf(entry);
}

function withoutLineBreaks(text: string): string {
  return text.includes('\n') || text.includes('\r') ? text.replace(/[\r\n]/g, ' ') : text;
}

/**
 * A result whose body is the app's JSON text, written field by field in the order it has them:
 * its headers and url as `JSON.stringify` writes them, no walk of the body. The method and the
 * content coding are tokens from fixed lists, which need no escape. Every answer of a batch is
 * written here, mostly with the same method, status and headers: the pieces around the url are
 * made once and joined, not written again a field at a time.
 */
function textResultJson(entry: JsonTextResult, text: string, lead: string): string {
  const coding =
    entry.decodedContentEncoding === undefined
      ? ''
      : `,"decodedContentEncoding":"${entry.decodedContentEncoding}"`;
  const { method, url, code } = entry;
  let head: string;
  if (lead === '' && Number.isInteger(code) && code >= 0 && code < 1000 && isWrittenAsIs(url)) {
    let opening = OPENINGS.get(method);
    if (opening === undefined) {
      opening = `{"method":"${method}","url":"`;
      // The methods are a short list; one set by code outside it is not kept.
      if (OPENINGS.size < BATCH_METHODS.length) OPENINGS.set(method, opening);
    }
    const middle = (MIDDLES[code] ??= `","code":${code},"headers":`);
    head = opening + url + middle;
  } else {
    head = `{${lead}"method":"${method}","url":${stringJson(url)},"code":${code},"headers":`;
  }
  return `${head}${headersJson(entry.headers)},"body":${text}${coding}}`;
}

/** `{"method":"GET","url":"`, by method. */
const OPENINGS = new Map<string, string>();

/** `","code":200,"headers":`, by status. */
const MIDDLES: string[] = [];

/**
 * Strings that `JSON.stringify` writes as they are, between quotes: no quote, backslash or
 * control character, which it escapes, and no surrogate (it escapes a lone one; a string with
 * a pair is left to it). One test of a compiled pattern is cheaper than its walk of the string.
 */
// eslint-disable-next-line no-control-regex
const WRITTEN_AS_IS = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;

function isWrittenAsIs(value: string): boolean {
  return WRITTEN_AS_IS.test(value);
}

/** A string as `JSON.stringify` writes it. */
function stringJson(value: string): string {
  return isWrittenAsIs(value) ? `"${value}"` : JSON.stringify(value);
}

/**
 * The last header written at each place of a record, and its JSON (`"name":"value"`): the
 * answers of a batch mostly carry the same headers in the same order, which are then neither
 * tested nor joined again. Only headers a reply carried, at most {@link PAIRS_KEPT}.
 */
const PAIRS_KEPT = 8;
const PAIR_NAMES: string[] = [];
const PAIR_VALUES: string[] = [];
const PAIRS: string[] = [];

/**
 * An entry's headers as `JSON.stringify` writes them, the same characters: written here when
 * they are what a response's headers are (a plain record of names to strings or lists of
 * strings, none needing an escape), else by `JSON.stringify`. Every entry writes its headers,
 * and `JSON.stringify` of a small record cost several times this.
 */
export function headersJson(headers: Readonly<Record<string, string | readonly string[]>>): string {
  const prototype = Object.getPrototypeOf(headers) as unknown;
  // A `toJSON` (own or inherited) or another kind of object: what it writes is its own.
  if ((prototype !== Object.prototype && prototype !== null) || 'toJSON' in headers) {
    return JSON.stringify(headers);
  }
  const names = Object.keys(headers);
  let json = '';
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as string;
    const value = headers[name];
    let pair: string;
    if (PAIR_NAMES[i] === name && PAIR_VALUES[i] === value) {
      pair = PAIRS[i] as string;
    } else if (typeof value === 'string') {
      if (!isWrittenAsIs(value) || !isWrittenAsIs(name)) return JSON.stringify(headers);
      pair = `"${name}":"${value}"`;
      if (i < PAIRS_KEPT) {
        PAIR_NAMES[i] = name;
        PAIR_VALUES[i] = value;
        PAIRS[i] = pair;
      }
    } else {
      const list = listJson(value);
      if (list === undefined || !isWrittenAsIs(name)) return JSON.stringify(headers);
      pair = `"${name}":${list}`;
    }
    json += i === 0 ? `{${pair}` : `,${pair}`;
  }
  return json === '' ? '{}' : `${json}}`;
}

/** A header's list of values as `JSON.stringify` writes it, or undefined when it is not sure to. */
function listJson(value: unknown): string | undefined {
  if (!Array.isArray(value) || Object.getPrototypeOf(value) !== Array.prototype) return undefined;
  if ('toJSON' in value) return undefined;
  let json = '[';
  for (let i = 0; i < value.length; i++) {
    const item: unknown = value[i];
    if (typeof item !== 'string' || !WRITTEN_AS_IS.test(item)) return undefined;
    json += `${i === 0 ? '"' : ',"'}${item}"`;
  }
  return `${json}]`;
}
