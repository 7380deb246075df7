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
