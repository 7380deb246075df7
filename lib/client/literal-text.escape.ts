import type { BatchOperation } from '../interfaces/batch-operation.interface.js';
import { PIPELINED_REFERENCE } from './pipelined.render.js';

/*
 * Text a page sends that holds `{result=` (a user's note, a template, a snippet in a doc) is
 * data to the app, and a reference to the batch server, which has no escape for it. Only the
 * references a client wrote may reach the server as references: every other `{result=` goes
 * where the server reads none (a url percent-encoded, a body as base64 bytes, a header with the
 * underlying fetch).
 */

/**
 * A name for a client's pipelined references: random, so that a text cannot name a call of the
 * batch it travels in by guessing (counters could be guessed, and the server would have put
 * that call's answer in place of the user's words).
 */
export function clientToken(client: object): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  const token = Array.from(bytes, (byte) => byte.toString(36).padStart(2, '0')).join('');
  clients.add(token);
  collected.register(client, token);
  return token;
}

/**
 * The tokens of the clients of this realm that are alive: a reference of another one is a
 * mistake. A client's goes with it (a server that makes one per request would grow the set).
 */
const clients = new Set<string>();
const collected = new FinalizationRegistry<string>((token) => clients.delete(token));

/** Whether a reference name is one a client of this realm wrote (this one or another). */
export function writtenByAClient(name: string): boolean {
  return clients.has(name.slice(1, name.indexOf('.')));
}

/** Whether a reference name is one a client wrote (see {@link writtenByAClient}). */
export type ClientReference = (name: string) => boolean;

/** Whether `text` holds a `{result=` that is not a reference a client wrote. */
export function holdsLiteral(text: string, own: ClientReference): boolean {
  if (!text.includes('{result=')) return false;
  return withoutOwn(text, own).includes('{result=');
}

/** Whether `text` holds a reference a client wrote. */
export function holdsOwn(text: string, own: ClientReference): boolean {
  if (!text.includes('{result=')) return false;
  for (const [, name = ''] of text.matchAll(PIPELINED_REFERENCE)) if (own(name)) return true;
  return false;
}

function withoutOwn(text: string, own: ClientReference): string {
  return text.replace(PIPELINED_REFERENCE, (reference, name: string) =>
    own(name) ? '' : reference,
  );
}

/**
 * A url with each `{result=` that is not a reference a client wrote percent-encoded: the app
 * decodes the same path and query a direct request gives it, and the server reads no reference.
 */
export function escapeLiteralUrl(url: string, own: ClientReference): string {
  if (!holdsLiteral(url, own)) return url;
  let escaped = '';
  let last = 0;
  for (const match of url.matchAll(PIPELINED_REFERENCE)) {
    if (!own(match[1] ?? '')) continue;
    escaped += escapeResultOpen(url.slice(last, match.index)) + match[0];
    last = match.index + match[0].length;
  }
  return escaped + escapeResultOpen(url.slice(last));
}

/** Every `{result=` of a url percent-encoded: text the server reads no reference in. */
export function escapeResultOpen(url: string): string {
  return url.replaceAll('{result=', '%7Bresult=');
}

/** Whether a string of a JSON value (a key or a value, at any depth) holds text `{result=`. */
export function stringsHoldLiteral(value: unknown, own: ClientReference): boolean {
  if (typeof value === 'string') return holdsLiteral(value, own);
  if (Array.isArray(value)) return value.some((item) => stringsHoldLiteral(item, own));
  if (value === null || typeof value !== 'object') return false;
  return Object.entries(value).some(
    ([key, item]) => holdsLiteral(key, own) || stringsHoldLiteral(item, own),
  );
}

/**
 * How an operation's text body holding a `{result=` of its own goes: `bytes` (its UTF-8 in
 * base64, which the server reads no reference in) when it holds none of the client's
 * references, `rendered` when it holds both (the client renders its references itself, then
 * sends the bytes), `as-is` otherwise.
 */
export function literalBodyOf(body: unknown, own: ClientReference): 'bytes' | 'rendered' | 'as-is' {
  if (typeof body !== 'string' || !holdsLiteral(body, own)) return 'as-is';
  return holdsOwn(body, own) ? 'rendered' : 'bytes';
}

/** The operation with its body sent as its bytes (UTF-8 of a text, JSON of a value), in base64. */
export function withBodyBytes(operation: BatchOperation): BatchOperation {
  const { body } = operation;
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const bytes = base64Of(new TextEncoder().encode(text));
  // The native format's wire field, which the operation type (the decoded one) does not name.
  return { ...operation, body: bytes, bodyEncoding: 'base64' } as BatchOperation;
}

/** Standard base64 (`btoa`, in browsers and Node alike), in chunks a call's arguments can take. */
export function base64Of(bytes: Uint8Array): string {
  let binary = '';
  for (let start = 0; start < bytes.length; start += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(start, start + 0x8000));
  }
  return btoa(binary);
}
