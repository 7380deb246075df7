import { isUtf8 } from 'node:buffer';
import { StringDecoder } from 'node:string_decoder';
import { inspect } from 'node:util';
import { JSON_MEDIA_TYPE, TEXT_MEDIA_TYPE } from '../batch.constants.js';
import { jsonStringBytes, jsonTextBytes } from '../validation/json-string.size.js';
import { isJsonText } from './json.validity.js';
import type {
  BatchMethod,
  BatchResult,
  DecodedContentEncoding,
} from '../interfaces/batch-operation.interface.js';

/** A response body as a batch entry carries it. */
export interface DecodedBody {
  readonly body?: unknown;
  readonly bodyEncoding?: 'base64';
  /**
   * Bytes the entry writes for `body`: a string's as a JSON string, quotes included; parsed
   * JSON's as the app's text (`json`).
   */
  readonly written?: number;
  /**
   * The JSON text the app wrote, checked to parse (`body` is then its value, parsed when read):
   * written as it came.
   */
  readonly json?: string;
  /**
   * A decoded body given in base64, with no `body` yet: its base64 is made when it is read (see
   * {@link setEntryBody}), and the reply writes it from the chunks, a chunk at a time.
   */
  readonly base64Of?: DecodedChunks;
}

/** Results whose body is a decoded body's base64, made when read: see {@link setEntryBody}. */
const base64Bodies = new WeakMap<object, DecodedChunks>();

/**
 * Sets a result's body as `entry` gives it. A decoded body given in base64 is kept as its
 * chunks, and `result.body` made from them the first time it is read: an enumerable property
 * like any other for code that reads, spreads, serialises or compares the result, but the
 * reply, which writes it from the chunks (see {@link base64ChunksOf}), never makes one string of
 * megabytes, nor keeps one in the heap while the batch runs.
 */
export function setEntryBody(result: { body?: unknown }, entry: DecodedBody): void {
  const chunks = entry.base64Of;
  if (chunks === undefined) {
    if (entry.body !== undefined) result.body = entry.body;
    return;
  }
  base64Bodies.set(result, chunks);
  Object.defineProperty(result, 'body', BASE64_BODY);
  // Logged (console.log, util.inspect), the result shows its body, not `[Getter/Setter]`.
  if (!Object.prototype.hasOwnProperty.call(result, inspect.custom)) {
    Object.defineProperty(result, inspect.custom, { value: inspectRead, configurable: true });
  }
}

/** The base64 of a result's body, once read. */
const base64Made = new WeakMap<object, string>();

/**
 * One accessor pair for every result with a base64 body, its state in the two maps: accessors
 * made per result gave each a hidden class of its own (CONTRIBUTING.md).
 */
const BASE64_BODY: PropertyDescriptor = {
  get(this: object): unknown {
    let made = base64Made.get(this);
    if (made === undefined) {
      const chunks = base64Bodies.get(this);
      if (chunks === undefined) return undefined;
      made = chunks.base64();
      base64Made.set(this, made);
    }
    return made;
  },
  set(this: object, value: unknown): void {
    replaceBody(this, value);
  },
  enumerable: true,
  configurable: true,
};

/** A body set on a result since: a plain property, written as its new value. */
function replaceBody(result: object, value: unknown): void {
  Object.defineProperty(result, 'body', {
    value,
    writable: true,
    enumerable: true,
    configurable: true,
  });
}

/** The result as inspected: a copy, its body read. */
function inspectRead(this: object): object {
  return { ...this };
}

/**
 * A copy of `result` with other headers that the reply writes as it would the result: the app's
 * JSON text kept, and a decoded body's base64 still made only when read, never by the copy.
 */
export function withHeaders(
  result: BatchResult,
  headers: Record<string, string | string[]>,
): BatchResult {
  const text = jsonTextOf(result);
  const source = result as unknown as Record<string, unknown>;
  if (text !== undefined) {
    const { method, url, code } = result;
    const parsed = JsonTextResult.parsedOf(result);
    const copy = new JsonTextResult(method, url, code, headers, text, parsed);
    const target = copy as unknown as Record<string, unknown>;
    for (const key of Object.keys(result)) {
      if (key !== 'headers' && key !== 'body') target[key] = source[key];
    }
    return copy;
  }
  const chunks = base64ChunksOf(result);
  const copy = {} as BatchResult;
  for (const key of Object.keys(result)) {
    if (key === 'headers') copy.headers = headers;
    else if (key === 'body' && chunks !== undefined) setEntryBody(copy, { base64Of: chunks });
    else (copy as unknown as Record<string, unknown>)[key] = source[key];
  }
  return copy;
}

/**
 * The decoded chunks a result's base64 body is made from, while its body is still that one
 * (one set since, or a copy of the result, is written as it is).
 */
export function base64ChunksOf(result: object): DecodedChunks | undefined {
  const chunks = base64Bodies.get(result);
  if (chunks === undefined) return undefined;
  return Object.getOwnPropertyDescriptor(result, 'body')?.get === BASE64_BODY.get
    ? chunks
    : undefined;
}

/**
 * A body decoded from its content coding, kept as the chunks the decoder made, never joined
 * into one Buffer: each chunk is checked (UTF-8) and counted (as JSON text) as it arrives, a
 * chunk a turn of the event loop, so deciding how the entry carries the body scans nothing
 * again, and base64 is made a chunk at a time.
 */
export class DecodedChunks {
  readonly chunks: Buffer[] = [];
  length = 0;
  #utf8 = true;
  /** The start of a UTF-8 sequence the last chunk cut (at most 3 bytes). */
  #cut: Buffer = Buffer.alloc(0);
  /** Bytes the chunks take as JSON text beyond one a byte, counted until `#countCap`. */
  #escapes = 0;
  #counted = true;

  constructor(
    /** A count above which text could never be chosen: it stops there. */
    private readonly countCap = Infinity,
  ) {}

  add(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
    if (this.#utf8) this.#utf8 = this.#checkUtf8(chunk);
    if (this.#utf8 && this.#counted) {
      this.#escapes += jsonTextBytesBeyond(chunk);
      if (this.length + 2 + this.#escapes > this.countCap) this.#counted = false;
    }
  }

  /** Valid UTF-8 as a whole (chunk boundaries may cut a character). */
  isUtf8(): boolean {
    return this.#utf8 && this.#cut.length === 0;
  }

  /** As {@link jsonTextBytes}: above `limit` (or the cap) once the count passed it. */
  jsonTextBytes(limit: number): number {
    const count = this.length + 2 + this.#escapes;
    return this.#counted ? count : Math.max(count, limit + 1);
  }

  /** The first `n` bytes at most. */
  head(n: number): Buffer {
    const parts: Buffer[] = [];
    let got = 0;
    for (const chunk of this.chunks) {
      if (got >= n) break;
      parts.push(chunk.subarray(0, n - got));
      got += Math.min(chunk.length, n - got);
    }
    return Buffer.concat(parts);
  }

  /** The body as UTF-8 text, a chunk at a time. */
  utf8(): string {
    const decoder = new StringDecoder('utf8');
    let text = '';
    for (const chunk of this.chunks) text += decoder.write(chunk);
    return text + decoder.end();
  }

  /** The body in base64, made a chunk at a time. */
  base64(): string {
    let text = '';
    for (const piece of this.base64Pieces()) text += piece;
    return text;
  }

  /** The body's base64 in pieces, one a chunk (bytes a chunk leaves over go to the next). */
  *base64Pieces(): Generator<string> {
    let carry: Buffer = Buffer.alloc(0);
    for (const chunk of this.chunks) {
      let rest = chunk;
      if (carry.length > 0) {
        // The bytes left over from the chunk before, completed to 3 from this one.
        const take = Math.min(3 - carry.length, rest.length);
        carry = Buffer.concat([carry, rest.subarray(0, take)]);
        rest = rest.subarray(take);
        if (carry.length < 3) continue;
        yield carry.toString('base64');
      }
      const whole = rest.length - (rest.length % 3);
      if (whole > 0) yield rest.subarray(0, whole).toString('base64');
      carry = Buffer.from(rest.subarray(whole));
    }
    if (carry.length > 0) yield carry.toString('base64');
  }

  /** Characters of the body's base64. */
  get base64Length(): number {
    return Math.ceil(this.length / 3) * 4;
  }

  /** The chunks joined (for code that reads the body whole). */
  joined(): Buffer {
    return Buffer.concat(this.chunks, this.length);
  }

  /** Whether `chunk`, after what the last chunk cut, is UTF-8 so far; keeps what it cuts. */
  #checkUtf8(chunk: Buffer): boolean {
    let rest = chunk;
    if (this.#cut.length > 0) {
      const need = sequenceLength(this.#cut[0] as number) - this.#cut.length;
      const take = Math.min(need, rest.length);
      const sequence = Buffer.concat([this.#cut, rest.subarray(0, take)]);
      rest = rest.subarray(take);
      if (take < need) {
        this.#cut = sequence;
        return isUtf8Prefix(sequence);
      }
      this.#cut = Buffer.alloc(0);
      if (!isUtf8(sequence)) return false;
    }
    const cut = cutAt(rest);
    this.#cut = Buffer.from(rest.subarray(cut));
    return isUtf8(rest.subarray(0, cut)) && isUtf8Prefix(this.#cut);
  }
}

/** Bytes of the UTF-8 sequence a lead byte starts (1 for any other byte: checked as it is). */
function sequenceLength(lead: number): number {
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 1;
}

/** Where the incomplete UTF-8 sequence at the end of `bytes` starts, if one does (else length). */
function cutAt(bytes: Buffer): number {
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const byte = bytes[bytes.length - back] as number;
    if (byte < 0x80 || byte > 0xbf) {
      // A lead byte: the sequence is cut when it needs more bytes than are left.
      return sequenceLength(byte) > back ? bytes.length - back : bytes.length;
    }
  }
  return bytes.length;
}

/** Whether a cut sequence (a lead byte and fewer continuation bytes than it needs) may be UTF-8. */
function isUtf8Prefix(cut: Buffer): boolean {
  if (cut.length === 0) return true;
  // Completed with the smallest continuation bytes that keep it valid, if any does.
  for (const fill of [0x80, 0x90, 0xa0]) {
    const whole = Buffer.alloc(sequenceLength(cut[0] as number), fill);
    cut.copy(whole);
    if (isUtf8(whole)) return true;
  }
  return false;
}

/** What {@link jsonTextBytes} counts for each byte beyond the byte itself. */
const EXTRA_TEXT_BYTES = Uint8Array.from({ length: 256 }, (_, byte) =>
  byte < 0x80 ? jsonTextBytes(Uint8Array.of(byte), Infinity) - 3 : 0,
);

/**
 * What {@link jsonTextBytes} counts beyond a byte a byte and the quotes: the same count (a table
 * made from it), without its branches, a decoded chunk's bytes being many.
 */
function jsonTextBytesBeyond(chunk: Buffer): number {
  let extra = 0;
  for (let i = 0; i < chunk.length; i++) extra += EXTRA_TEXT_BYTES[chunk[i] as number] as number;
  return extra;
}

/**
 * A result whose body the app sent as JSON text: the text is kept, and the reply writes the
 * app's bytes (key order, numbers, spacing) instead of stringifying a value again. `body` is
 * parsed from the text the first time it is read (a reference, a listener), and never when
 * nothing reads it: an enumerable own property like any other for code that reads, spreads,
 * serialises or compares the result; one set since is written as the new value.
 */
export class JsonTextResult implements BatchResult {
  // Declared, not initialised: the constructor puts `body` in its place among the fields.
  declare body: unknown;
  decodedContentEncoding?: DecodedContentEncoding;
  readonly #text: string;
  #parsed: unknown;
  /** A body was set since: the text is no longer the body's. */
  #replaced = false;

  constructor(
    public method: BatchMethod,
    public url: string,
    public code: number,
    public headers: Record<string, string | string[]>,
    /** JSON text, checked to parse (see {@link isJsonText}). */
    text: string,
    /** The value parsed from `text`, when it already was. */
    parsed: unknown = UNPARSED,
  ) {
    this.#text = text;
    this.#parsed = parsed;
    Object.defineProperty(this, 'body', JsonTextResult.#lazyBody);
  }

  /** Shared by every result (one accessor pair), so their shapes stay one. */
  static readonly #lazyBody: PropertyDescriptor = {
    get(this: JsonTextResult): unknown {
      if (this.#parsed === UNPARSED) this.#parsed = JSON.parse(this.#text) as unknown;
      return this.#parsed;
    },
    set(this: JsonTextResult, value: unknown): void {
      this.#replaced = true;
      replaceBody(this, value);
    },
    enumerable: true,
    configurable: true,
  };

  /**
   * The app's JSON text of `result.body`, when it came as JSON text and the body is still the
   * value of that text (a body set since is written as the new value).
   */
  static textOf(result: object): string | undefined {
    if (!(#text in result) || result.#replaced) return undefined;
    // Redefined without the setter (`Object.defineProperty`, `delete`): no longer the text's.
    return Object.getOwnPropertyDescriptor(result, 'body')?.get === JsonTextResult.#lazyBody.get
      ? result.#text
      : undefined;
  }

  /** The parsed body if it was read, for a copy that keeps it. */
  static parsedOf(result: object): unknown {
    return #parsed in result ? result.#parsed : UNPARSED;
  }

  /** Logged (console.log, util.inspect), the result shows its body, not `[Getter/Setter]`. */
  [inspect.custom](): object {
    const shown: Record<string, unknown> = {};
    for (const key of Object.keys(this)) shown[key] = (this as unknown as typeof shown)[key];
    return shown;
  }
}

/** A body not parsed yet. */
const UNPARSED: unknown = Symbol('unparsed');

/** The app's JSON text of a result's body: see {@link JsonTextResult}. */
export function jsonTextOf(result: object): string | undefined {
  return JsonTextResult.textOf(result);
}

/**
 * Turns captured bytes into an entry's body: JSON parsed (and its text kept, which the reply
 * writes as it came), text as text, anything else base64, so nothing is lost. A body that claims
 * JSON but does not parse is given in base64; a body still content-encoded is always base64.
 *
 * Text is given as text only when it is UTF-8 and JSON writes it in at most twice the bytes
 * base64 would: else base64. Escaped, a NUL byte takes 6 bytes (`\u0000`) and an invalid UTF-8 byte 3
 * (U+FFFD), so a body of either, which is binary whatever its type says, would make the reply
 * several times larger than the bytes the caps counted; base64 takes 4 for 3, and keeps every
 * byte, where U+FFFD would not.
 *
 * Returns undefined, having made no string of it, when the body given as a string would take
 * more than `maxWritten` bytes written: what a reply cannot hold costs no decoding.
 */
export function decodeResponseBody(
  bytes: Buffer | DecodedChunks,
  contentType: string | undefined,
  /** Still content-encoded (a coding not decoded here): bytes whatever the type says. */
  encoded = false,
  /** The same body as the string the app wrote, when it wrote one (see `DispatchResponse.text`). */
  text?: string,
  maxWritten = Infinity,
): DecodedBody | undefined {
  if (bytes.length === 0) return {};
  if (encoded) return base64(bytes, maxWritten);
  const type = contentType ?? '';
  const json = isJsonType(type);
  if (!json && !isTextType(type)) return base64(bytes, maxWritten);
  if (text === undefined && !utf8(bytes)) return base64(bytes, maxWritten);
  if (json) {
    if (text !== undefined || mayBeJson(bytes)) {
      const source = text ?? utf8Text(bytes);
      // Checked, not parsed: the value is made only if something reads it (see JsonTextResult).
      if (isJsonText(source)) {
        // Written as the app's text, the bytes it sent (UTF-8, checked above).
        if (bytes.length > maxWritten) return undefined;
        return new JsonBody(source, bytes.length);
      }
    }
    // Labelled JSON, and not JSON (an XSSI prefix, a byte order mark, text by mistake): as text
    // it would read as a JSON string the app sent, which a client cannot tell from it. Its bytes
    // read as a direct client reads them.
    return base64(bytes, maxWritten);
  }
  return textOrBase64(bytes, text, maxWritten);
}

/** A body of JSON text: its value parsed when read. */
class JsonBody implements DecodedBody {
  constructor(
    readonly json: string,
    readonly written: number,
  ) {}

  get body(): unknown {
    return JSON.parse(this.json) as unknown;
  }
}

/**
 * Whether the type is JSON's. The answers of a batch mostly have one type, often the very same
 * string: the last one tested is remembered, and a type equal to it is not tested again.
 */
function isJsonType(type: string): boolean {
  if (type !== lastType.type) lastType = { type, json: JSON_MEDIA_TYPE.test(type) };
  return lastType.json;
}

let lastType = { type: '', json: false };

/** Whether a body of this type may be given as text (or JSON): else it is given in base64. */
function isTextType(type: string): boolean {
  return type === '' || JSON_MEDIA_TYPE.test(type) || TEXT_MEDIA_TYPE.test(type);
}

function utf8(bytes: Buffer | DecodedChunks): boolean {
  return bytes instanceof DecodedChunks ? bytes.isUtf8() : isUtf8(bytes);
}

function utf8Text(bytes: Buffer | DecodedChunks): string {
  return bytes instanceof DecodedChunks ? bytes.utf8() : bytes.toString('utf8');
}

/** Bytes of `length` bytes in base64, as a JSON string. */
function base64Bytes(length: number): number {
  return Math.ceil(length / 3) * 4 + 2;
}

function base64(bytes: Buffer | DecodedChunks, maxWritten: number): DecodedBody | undefined {
  const written = base64Bytes(bytes.length);
  if (written > maxWritten) return undefined;
  if (bytes instanceof DecodedChunks) {
    return { bodyEncoding: 'base64', written, base64Of: bytes };
  }
  return { body: bytes.toString('base64'), bodyEncoding: 'base64', written };
}

/**
 * The body as text unless JSON writes it in more than twice base64's bytes; then in base64.
 * Quotes, backslashes and line breaks take 2 bytes escaped, so ordinary text (CSV, short lines)
 * stays text, as a client expects it; control bytes take 6, and a body made of them goes base64.
 */
function textOrBase64(
  bytes: Buffer | DecodedChunks,
  text: string | undefined,
  maxWritten: number,
): DecodedBody | undefined {
  const inBase64 = base64Bytes(bytes.length);
  // Neither form fits (text takes at least a byte a byte): refused without a scan.
  if (inBase64 > maxWritten && bytes.length + 2 > maxWritten) return undefined;
  const asText = 2 * inBase64;
  // Past `maxWritten` the text would be refused, and base64 too when it does not fit either: the
  // count stops at the lower bound that still decides.
  const bound = inBase64 > maxWritten ? maxWritten : asText;
  // Counted on the bytes when there is no string yet (decoded chunks counted as they came); the
  // count stops past the bound.
  const written =
    text !== undefined
      ? jsonStringBytes(text, bound)
      : bytes instanceof DecodedChunks
        ? bytes.jsonTextBytes(bound)
        : jsonTextBytes(bytes, bound);
  if (written > bound && bound < asText) return undefined;
  if (written > asText) return base64(bytes, maxWritten);
  if (written > maxWritten) return undefined;
  return { body: text ?? utf8Text(bytes), written };
}

/**
 * JSON text starts with `{`, `[`, `"`, a digit, `-`, `t`, `f` or `n` after any whitespace; first
 * bytes that are all whitespace leave it undecided (the scan decides).
 */
const JSON_START = /^[\s]*(?:[[{"\-0-9tfn]|$)/;

/** False when `bytes` cannot be JSON by their first characters: then they are not parsed. */
function mayBeJson(bytes: Buffer | DecodedChunks): boolean {
  const head = bytes instanceof DecodedChunks ? bytes.head(64) : bytes.subarray(0, 64);
  return JSON_START.test(head.toString('latin1'));
}
