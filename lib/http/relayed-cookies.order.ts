import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { outgoingMessageSymbol } from '../platform/framework.internals.js';

type HeaderValue = OutgoingHttpHeaders[string];

/** Node's own map of a response's headers, which `_storeHeader` may be given. */
const OUT_HEADERS = outgoingMessageSymbol('kOutHeaders');

/**
 * Puts the cookies the operations set after any the batch request's own pipeline sets, in the
 * reply's header block as it is written: a browser keeps the last `Set-Cookie` of a cookie.
 *
 * Middleware mounted app-wide runs for the batch request too, and loaded its state before any
 * operation ran. A client-side session (cookie-session, @fastify/secure-session) is written when
 * the headers go out if that copy counts as changed: a rolling expiry the app refreshes on every
 * request, a key rotation. Written after the operations' cookies, the stale copy won: a login in a
 * batch did not sign in, and a logout did not sign out. The operations' cookies are the newer
 * state, as each of their requests came after the batch's. Nothing is dropped: a cookie of the
 * batch request's own that no operation set is sent as it was.
 *
 * Hooked where the header block is rendered (`_storeHeader` over HTTP/1, `writeHead` over
 * HTTP/2), so as to run after every hook that adds a cookie at the headers (Express's
 * on-headers listeners run inside `writeHead`, Fastify's `onSend` before it).
 */
export function relayedCookiesLast(response: ServerResponse, relayed: readonly string[]): void {
  if (relayed.length === 0) return;
  const target = response as unknown as Record<string, unknown>;
  const name = typeof target._storeHeader === 'function' ? '_storeHeader' : 'writeHead';
  const original = target[name] as (...args: unknown[]) => unknown;
  const own = Object.hasOwn(target, name);
  target[name] = function (this: ServerResponse, ...args: unknown[]): unknown {
    // Once: the header block is rendered once. What was there before is put back.
    if (own) target[name] = original;
    else Reflect.deleteProperty(target, name);
    reorder(this, args, relayed);
    return Reflect.apply(original, this, args);
  };
}

/**
 * The cookies in the headers about to be rendered, with `relayed` at the end: moved there, or put
 * back where a module that writes its cookie over any of the same name (cookie-session, through
 * `cookies` with `overwrite`) took the operation's out.
 */
function reorder(response: ServerResponse, args: unknown[], relayed: readonly string[]): void {
  // `writeHead(status, [message], headers)` and `_storeHeader(line, headers)` both take the
  // headers last. Over HTTP/1 they are the response's own map (Node's `[name, value]` pairs)
  // once anything was set with `setHeader`, which then reorders them; else a map of their own
  // (Fastify's reply headers), which is what is rendered: reordered in place, it holds the
  // relayed cookies. A raw array never holds them: the library sets them through the adapter.
  const given = args[args.length - 1];
  const own = response.getHeader('set-cookie');
  const separate =
    typeof given === 'object' &&
    given !== null &&
    !Array.isArray(given) &&
    OUT_HEADERS !== undefined &&
    given !== (response as unknown as Record<symbol, unknown>)[OUT_HEADERS];
  const key = separate
    ? Object.keys(given).find((name) => name.toLowerCase() === 'set-cookie')
    : undefined;
  // Over HTTP/2, `writeHead` merges its map into the response's own, a name replacing the
  // other's: the cookies go where the name is, or where it will be read.
  if (separate && (key !== undefined || own === undefined)) {
    const headers = given as Record<string, HeaderValue>;
    const name = key ?? 'set-cookie';
    headers[name] = [...without(headers[name], relayed), ...relayed];
    if (own !== undefined) response.setHeader('set-cookie', without(own, relayed));
  } else {
    response.setHeader('set-cookie', [...without(own, relayed), ...relayed]);
  }
}

/** The values less those of `relayed`. */
function without(value: HeaderValue, relayed: readonly string[]): string[] {
  const values = value === undefined ? [] : Array.isArray(value) ? value : [String(value)];
  return values.filter((cookie) => !relayed.includes(cookie));
}
