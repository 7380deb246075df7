/** Printable ASCII but `"` and `\`: what JSON writes one byte a character, unescaped. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/**
 * Bytes of a string as JSON text in UTF-8, escapes included, or a number above `limit` once the
 * count passes it: the count stops there, so measuring costs at most `limit` characters.
 */
export function jsonStringBytes(text: string, limit: number): number {
  // Every UTF-16 unit takes at least a byte, and there are two quotes.
  if (text.length + 2 > limit) return limit + 1;
  // Most text, and all base64: one native scan instead of a loop over every unit.
  if (PLAIN.test(text)) return text.length + 2;
  let bytes = 2;
  for (let i = 0; i < text.length && bytes <= limit; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) {
      if (unit >= 0x20) bytes += unit === 0x22 || unit === 0x5c ? 2 : 1;
      else bytes += escapedControlBytes(unit);
    } else if (unit < 0x800) bytes += 2;
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

/**
 * Bytes of valid UTF-8 `bytes`, read as text, written as a JSON string (what {@link
 * jsonStringBytes} gives for the string they decode to), counted without decoding them: JSON
 * writes every character above ASCII as its UTF-8 bytes, and escapes only ASCII ones. A number
 * above `limit` once the count passes it.
 */
export function jsonTextBytes(bytes: Uint8Array, limit: number): number {
  let count = bytes.length + 2;
  for (let i = 0; i < bytes.length && count <= limit; i++) {
    const byte = bytes[i] as number;
    if (byte < 0x20) count += escapedControlBytes(byte) - 1;
    else if (byte === 0x22 || byte === 0x5c) count++;
  }
  return count;
}

/** \b \t \n \f \r take a two-character escape; the other controls `\u00XX`. */
function escapedControlBytes(unit: number): number {
  return unit === 0x08 || unit === 0x09 || unit === 0x0a || unit === 0x0c || unit === 0x0d ? 2 : 6;
}

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}
