import type { BatchResult } from '../interfaces/batch-operation.interface.js';

/** A plain JSON object (not an array, not null). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Sets `name` as an own property, even `__proto__`: an assignment would set the prototype
 * instead and the header would vanish, where the header rules refuse it with a 400.
 */
export function setOwn(object: Record<string, unknown>, name: string, value: unknown): void {
  Object.defineProperty(object, name, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

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

/** The bytes of a response body as the entry carries it (parsed JSON, text or base64). */
export function bodyBytes(result: BatchResult): Buffer {
  const { body } = result;
  if (body === undefined) return Buffer.alloc(0);
  if (typeof body !== 'string') return Buffer.from(JSON.stringify(body));
  return Buffer.from(body, result.bodyEncoding === 'base64' ? 'base64' : 'utf8');
}
