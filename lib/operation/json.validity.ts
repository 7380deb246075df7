/**
 * Whether `text` is one JSON text as `JSON.parse` accepts it (RFC 8259: one value, whitespace
 * around it), read without building the value. An answer's JSON is written into the reply as
 * the app sent it, and parsed only when something reads its value (a reference, a listener):
 * knowing that it parses costs a scan, where parsing it built every object and string of it
 * only to be collected. No package checks JSON without parsing it; the grammar is small, and a
 * spec holds this to `JSON.parse` on valid and broken texts.
 *
 * Iterative, so no nesting depth overflows the stack (as `JSON.parse`, which does not recurse).
 */
export function isJsonText(text: string): boolean {
  const n = text.length;
  /** Open containers, innermost last, `depth` of them: 0 an object, 1 an array. */
  let open = OPEN;
  let depth = 0;
  let i = 0;
  let c = 0;
  for (;;) {
    // A value.
    while (i < n && isSpace((c = text.charCodeAt(i)))) i++;
    if (i >= n) return false;
    if (c === 0x7b /* { */) {
      i++;
      while (i < n && isSpace((c = text.charCodeAt(i)))) i++;
      if (i < n && c === 0x7d /* } */) {
        i++;
      } else {
        i = key(text, i);
        if (i < 0) return false;
        if (depth === open.length) open = deeper(open);
        open[depth++] = 0;
        continue;
      }
    } else if (c === 0x5b /* [ */) {
      i++;
      while (i < n && isSpace((c = text.charCodeAt(i)))) i++;
      if (i < n && c === 0x5d /* ] */) {
        i++;
      } else {
        if (depth === open.length) open = deeper(open);
        open[depth++] = 1;
        continue;
      }
    } else if (c === 0x22 /* " */) {
      i = stringEnd(text, i);
    } else if (c === 0x74 /* t */) {
      i = follows(text, i, 0x72, 0x75, 0x65) ? i + 4 : -1;
    } else if (c === 0x66 /* f */) {
      i = follows(text, i, 0x61, 0x6c, 0x73) && text.charCodeAt(i + 4) === 0x65 ? i + 5 : -1;
    } else if (c === 0x6e /* n */) {
      i = follows(text, i, 0x75, 0x6c, 0x6c) ? i + 4 : -1;
    } else {
      i = numberEnd(text, i);
    }
    if (i < 0) return false;
    // What follows a value: the end, a comma, or the end of the containers it closes.
    for (;;) {
      while (i < n && isSpace((c = text.charCodeAt(i)))) i++;
      if (depth === 0) return i === n;
      if (i >= n) return false;
      const inObject = open[depth - 1] === 0;
      if (c === 0x2c /* , */) {
        i++;
        if (inObject) {
          while (i < n && isSpace(text.charCodeAt(i))) i++;
          i = key(text, i);
          if (i < 0) return false;
        }
        break;
      }
      if (c !== (inObject ? 0x7d /* } */ : 0x5d) /* ] */) return false;
      i++;
      depth--;
    }
  }
}

/**
 * Reused: one scan runs at a time (the check calls nothing out). A typed array indexed by a
 * counter, where an array's `push`, `pop` and `length = 0` were a fifth of the scan of a small
 * answer.
 */
let OPEN: Uint8Array = new Uint8Array(64);

/** Room for twice as many open containers; kept for the next scans while it stays small. */
function deeper(open: Uint8Array): Uint8Array {
  const more = new Uint8Array(open.length * 2);
  more.set(open);
  if (more.length <= 4096) OPEN = more;
  return more;
}

/** Whether the three characters after `at` are `a`, `b` and `c` (a literal's, by code). */
function follows(text: string, at: number, a: number, b: number, c: number): boolean {
  return (
    text.charCodeAt(at + 1) === a && text.charCodeAt(at + 2) === b && text.charCodeAt(at + 3) === c
  );
}

function isSpace(c: number): boolean {
  // Most characters are past the space: one comparison tells them.
  return c <= 0x20 && (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09);
}

/** After a key at `i` (a string, whitespace, a colon), or -1. */
function key(text: string, at: number): number {
  if (text.charCodeAt(at) !== 0x22) return -1;
  let i = stringEnd(text, at);
  if (i < 0) return -1;
  const n = text.length;
  while (i < n && isSpace(text.charCodeAt(i))) i++;
  return text.charCodeAt(i) === 0x3a /* : */ ? i + 1 : -1;
}

/** After the string that opens at `at`, or -1: no raw control character, only JSON's escapes. */
function stringEnd(text: string, at: number): number {
  const n = text.length;
  let i = at + 1;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22) return i + 1;
    if (c !== 0x5c /* \ */) {
      if (c < 0x20) return -1;
      i++;
      continue;
    }
    const escape = text.charCodeAt(i + 1);
    if (escape === 0x75 /* u */) {
      for (let k = i + 2; k < i + 6; k++) if (!isHex(text.charCodeAt(k))) return -1;
      i += 6;
    } else if (ESCAPES.includes(escape)) {
      i += 2;
    } else {
      return -1;
    }
  }
  return -1;
}

/** `"`, `\`, `/`, `b`, `f`, `n`, `r`, `t`. */
const ESCAPES = [0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74];

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** After the number at `at` (`-? (0 | [1-9] digits) (. digits)? ([eE] [+-]? digits)?`), or -1. */
function numberEnd(text: string, at: number): number {
  let i = at;
  if (text.charCodeAt(i) === 0x2d /* - */) i++;
  const first = text.charCodeAt(i);
  if (first === 0x30) i++;
  else if (first >= 0x31 && first <= 0x39) while (isDigit(text.charCodeAt(++i)));
  else return -1;
  if (text.charCodeAt(i) === 0x2e /* . */) {
    if (!isDigit(text.charCodeAt(++i))) return -1;
    while (isDigit(text.charCodeAt(++i)));
  }
  const e = text.charCodeAt(i);
  if (e === 0x65 || e === 0x45) {
    let c = text.charCodeAt(++i);
    if (c === 0x2b || c === 0x2d) c = text.charCodeAt(++i);
    if (!isDigit(c)) return -1;
    while (isDigit(text.charCodeAt(++i)));
  }
  return i;
}
