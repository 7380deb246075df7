import { MAX_BODY_DEPTH } from '../plan/json.template.js';
import { RenderLimitError } from '../plan/render.limits.js';
import { jsonStringBytes } from '../validation/json-string.size.js';

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
