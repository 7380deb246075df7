import { MAX_BODY_DEPTH } from './json.template.js';
import { RenderLimitError } from './render.limits.js';

/**
 * Sizes of values as they will be written, measured without writing them: a walk that stops as
 * soon as it passes its limit, so measuring costs at most the bytes allowed, never the size of
 * the value. Made once per batch: the size of every object and array walked in full is kept, so
 * a subtree matched by many references (`$..*` matches every subtree) is walked once.
 */
export class JsonSizer {
  private readonly sizes = new WeakMap<object, number>();

  /**
   * Bytes of `JSON.stringify(value)` in UTF-8 when they are at most `limit`; otherwise some number
   * above `limit`.
   * @throws RenderLimitError for a value nested deeper than {@link MAX_BODY_DEPTH}: writing it
   * would overflow the stack.
   */
  json(value: unknown, limit: number): number {
    return this.measure(value, limit, 0);
  }

  /** Bytes of a value written into a string: a string as itself, anything else as JSON. */
  text(value: unknown, limit: number): number {
    if (typeof value !== 'string') return this.json(value, limit);
    // UTF-8 takes at least a byte per UTF-16 unit: a string too long is over without a scan.
    return value.length > limit ? limit + 1 : Buffer.byteLength(value);
  }

  private measure(value: unknown, limit: number, depth: number): number {
    switch (typeof value) {
      case 'string':
        return jsonStringBytes(value, limit);
      case 'number':
        return Number.isFinite(value) ? String(value).length : 4;
      case 'boolean':
        return value ? 4 : 5;
      case 'object':
        break;
      default:
        // Never in a parsed body; JSON.stringify writes `null` for it inside an array.
        return 4;
    }
    if (value === null) return 4;
    const known = this.sizes.get(value);
    if (known !== undefined) return known;
    if (depth >= MAX_BODY_DEPTH) {
      throw new RenderLimitError(
        `a referenced value is nested deeper than ${MAX_BODY_DEPTH} levels`,
      );
    }
    let bytes = 1;
    if (Array.isArray(value)) {
      for (const item of value as unknown[]) {
        // One more for the comma or the closing bracket.
        bytes += this.measure(item, limit - bytes, depth + 1) + 1;
        if (bytes > limit) return bytes;
      }
      if (value.length === 0) bytes++;
    } else {
      const keys = Object.keys(value);
      for (const key of keys) {
        // `"key":` and a comma or the closing brace.
        bytes += jsonStringBytes(key, limit - bytes) + 2;
        if (bytes > limit) return bytes;
        bytes += this.measure((value as Record<string, unknown>)[key], limit - bytes, depth + 1);
        if (bytes > limit) return bytes;
      }
      if (keys.length === 0) bytes++;
    }
    this.sizes.set(value, bytes);
    return bytes;
  }
}

/**
 * Bytes of a string as JSON text in UTF-8, escapes included, or a number above `limit` once the
 * count passes it.
 */
export function jsonStringBytes(text: string, limit: number): number {
  // Every UTF-16 unit takes at least a byte, and there are two quotes.
  if (text.length + 2 > limit) return limit + 1;
  let bytes = 2;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit === 0x22 || unit === 0x5c) bytes += 2;
    else if (unit < 0x20) bytes += ESCAPED_CONTROL.has(unit) ? 2 : 6;
    else if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && isLowSurrogate(text.charCodeAt(i + 1))) {
      bytes += 4;
      i++;
    } else if (unit >= 0xd800 && unit <= 0xdfff) {
      // A lone surrogate: JSON.stringify writes it as \uXXXX.
      bytes += 6;
    } else bytes += 3;
  }
  return bytes;
}

/** \b \t \n \f \r: the controls JSON writes with a two-character escape. */
const ESCAPED_CONTROL: ReadonlySet<number> = new Set([0x08, 0x09, 0x0a, 0x0c, 0x0d]);

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}
