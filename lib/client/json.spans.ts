/**
 * Where the bodies sit in the text of a batch reply, so that a call's Response gives the app's
 * JSON text as the server relayed it (a 64-bit id, `1.50`, duplicate keys, spacing), where
 * `JSON.parse` then `JSON.stringify` would change it. The text is a valid JSON document (it was
 * parsed already): these scan it, they do not check it.
 */

/** The text of each entry's `body` in a whole reply `{"data":[...]}`: by index, when it has one. */
export function entryBodiesOf(text: string): (string | undefined)[] {
  const bodies: (string | undefined)[] = [];
  const data = memberSpan(text, skipSpace(text, 0), 'data');
  if (data === undefined || text[data[0]] !== '[') return bodies;
  let at = skipSpace(text, data[0] + 1);
  while (text[at] !== ']' && at < data[1]) {
    const end = valueEnd(text, at);
    bodies.push(text[at] === '{' ? bodyOf(text, at) : undefined);
    at = skipSpace(text, end);
    if (text[at] === ',') at = skipSpace(text, at + 1);
  }
  return bodies;
}

/** The text of the `body` member of the object that starts at `start`. */
export function bodyOf(text: string, start: number): string | undefined {
  const span = memberSpan(text, start, 'body');
  return span && text.slice(span[0], span[1]);
}

/** [start, end) of the value of the member `key` of the object that starts at `start`. */
function memberSpan(text: string, start: number, key: string): [number, number] | undefined {
  if (text[start] !== '{') return undefined;
  let at = skipSpace(text, start + 1);
  while (text[at] === '"') {
    const keyEnd = stringEnd(text, at);
    const name = JSON.parse(text.slice(at, keyEnd)) as string;
    at = skipSpace(text, skipSpace(text, keyEnd) + 1); // past the ':'
    const end = valueEnd(text, at);
    if (name === key) return [at, end];
    at = skipSpace(text, end);
    if (text[at] !== ',') return undefined;
    at = skipSpace(text, at + 1);
  }
  return undefined;
}

/** Where the value that starts at `at` ends. */
function valueEnd(text: string, at: number): number {
  const first = text[at];
  if (first === '"') return stringEnd(text, at);
  if (first !== '{' && first !== '[') {
    let end = at;
    while (end < text.length && !',}] \t\r\n'.includes(text[end] ?? '')) end++;
    return end;
  }
  let depth = 0;
  for (let i = at; i < text.length; i++) {
    const char = text[i];
    if (char === '"') i = stringEnd(text, i) - 1;
    else if (char === '{' || char === '[') depth++;
    else if ((char === '}' || char === ']') && --depth === 0) return i + 1;
  }
  return text.length;
}

/** Where the string that starts (with its quote) at `at` ends, past its closing quote. */
function stringEnd(text: string, at: number): number {
  for (let i = at + 1; i < text.length; i++) {
    const char = text[i];
    if (char === '\\') i++;
    else if (char === '"') return i + 1;
  }
  return text.length;
}

function skipSpace(text: string, at: number): number {
  while (at < text.length && ' \t\r\n'.includes(text[at] ?? '')) at++;
  return at;
}
