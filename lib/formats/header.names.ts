import { isRecord } from '../validation/json.value.js';

/** The value of a header in an object whose names may be in any case. */
export function headerOf(headers: unknown, name: string): string | undefined {
  if (!isRecord(headers)) return undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name && typeof value === 'string') return value;
  }
  return undefined;
}

/** `content-type` as `Content-Type`: how the other formats, and the clients reading them, spell names. */
export function canonical(name: string): string {
  return name.replace(
    /(^|-)([a-z])/g,
    (_match, dash: string, letter: string) => dash + letter.toUpperCase(),
  );
}
