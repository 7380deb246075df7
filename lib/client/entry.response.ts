import { JSON_MEDIA_TYPE } from '../batch.constants.js';
import type { BatchResult } from '../interfaces/batch-operation.interface.js';

/** Statuses whose responses have no body (a Response with one cannot be made). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/**
 * The reason phrases Node's server sends (`http.STATUS_CODES`, 2xx to 5xx), which a direct
 * fetch shows as `statusText`: copied, as the client bundle imports no Node module.
 */
const REASONS: Readonly<Record<number, string>> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  203: 'Non-Authoritative Information',
  204: 'No Content',
  205: 'Reset Content',
  206: 'Partial Content',
  207: 'Multi-Status',
  208: 'Already Reported',
  226: 'IM Used',
  300: 'Multiple Choices',
  301: 'Moved Permanently',
  302: 'Found',
  303: 'See Other',
  304: 'Not Modified',
  305: 'Use Proxy',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  407: 'Proxy Authentication Required',
  408: 'Request Timeout',
  409: 'Conflict',
  410: 'Gone',
  411: 'Length Required',
  412: 'Precondition Failed',
  413: 'Payload Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  416: 'Range Not Satisfiable',
  417: 'Expectation Failed',
  418: "I'm a Teapot",
  421: 'Misdirected Request',
  422: 'Unprocessable Entity',
  423: 'Locked',
  424: 'Failed Dependency',
  425: 'Too Early',
  426: 'Upgrade Required',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  451: 'Unavailable For Legal Reasons',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
  506: 'Variant Also Negotiates',
  507: 'Insufficient Storage',
  508: 'Loop Detected',
  509: 'Bandwidth Limit Exceeded',
  510: 'Not Extended',
  511: 'Network Authentication Required',
};

/** How a call's Response differs from its entry's: what fetch adds from the call itself. */
export interface ResponseOptions {
  /** Whether the call followed a redirect to get it (`response.redirected`). */
  readonly redirected?: boolean;
  /** The call's signal: aborted before the body has been read, it fails the read, as fetch's. */
  readonly signal?: AbortSignal;
}

/**
 * A standard `Response` for one entry, as if the operation had been fetched on its own: JSON
 * bodies re-serialised, base64 bodies decoded to bytes, `set-cookie` arrays as separate headers.
 * `content-length` is dropped, as the body was re-encoded, but for a HEAD, which has none: there
 * it is the size a GET would read, as fetch shows it. An entry for a response that closed
 * or was cut off by `operationTimeout` or `maxResponseBytes` after its headers (`response-aborted`,
 * `operation-timeout` or `response-too-large` with what it had `sent`) is a Response with the status and headers the
 * app sent whose body fails to read with a TypeError, as fetch's does when the connection drops.
 */
export function toResponse(
  entry: BatchResult,
  url: string,
  options: ResponseOptions = {},
): Response {
  const sent = sentBeforeAbort(entry);
  const shown = sent ?? entry;
  const headers = new Headers();
  const head = entry.method === 'HEAD';
  for (const [name, value] of Object.entries(shown.headers)) {
    if ((name === 'content-length' && !head) || name === 'transfer-encoding') continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
  }
  // Node's server sends a status up to 999 and Node's fetch resolves with it, where a Response
  // is only made with one up to 599: made with 200, it is given the app's status after.
  const past = shown.code > 599;
  const init = {
    status: past ? 200 : shown.code,
    // Node's server names a status it has no reason phrase for `unknown`.
    statusText: past ? 'unknown' : (REASONS[shown.code] ?? ''),
    headers,
  };
  let response: Response;
  if (sent) {
    response = new Response(NULL_BODY.has(sent.code) ? null : terminated(entry), init);
  } else {
    response = new Response(bodyOf(entry, headers.get('content-type')), init);
    const { signal } = options;
    if (signal && response.body) {
      // Made again around the same body and headers (those the first added included).
      response = new Response(abortable(response.body, signal), {
        ...init,
        headers: response.headers,
      });
    }
  }
  if (past) withStatus(response, shown.code);
  Object.defineProperty(response, 'url', { value: url });
  Object.defineProperty(response, 'type', { value: typeOf(url) });
  if (options.redirected) Object.defineProperty(response, 'redirected', { value: true });
  return response;
}

/** `response` with a status a Response cannot be made with (600 to 999), its clones too. */
function withStatus(response: Response, status: number): Response {
  const clone = response.clone.bind(response);
  Object.defineProperties(response, {
    status: { value: status },
    ok: { value: false },
    clone: { value: () => withStatus(clone(), status) },
  });
  return response;
}

/**
 * The `type` fetch gives a response: `basic` for the page's own origin (and outside a browser,
 * where Node's fetch says `basic` of every response), `cors` for another origin's.
 */
function typeOf(url: string): Response['type'] {
  const page = (globalThis as { location?: { origin?: string } }).location?.origin;
  return page === undefined || new URL(url).origin === page ? 'basic' : 'cors';
}

/**
 * What a `response-aborted` or `response-too-large` (502) or `operation-timeout` (504) entry
 * says the response had sent, when it had sent its headers.
 */
function sentBeforeAbort(
  entry: BatchResult,
): { code: number; headers: Record<string, string | string[]> } | undefined {
  if (entry.code !== 502 && entry.code !== 504) return undefined;
  const body = entry.body as { reason?: unknown; sent?: unknown } | null | undefined;
  if (typeof body !== 'object' || body === null) return undefined;
  const { reason } = body;
  if (
    entry.code === 502
      ? reason !== 'response-aborted' && reason !== 'response-too-large'
      : reason !== 'operation-timeout'
  ) {
    return undefined;
  }
  const sent = body.sent as { code?: unknown; headers?: unknown } | null | undefined;
  if (typeof sent !== 'object' || sent === null || typeof sent.code !== 'number') return undefined;
  if (sent.code < 200 || sent.code > 599 || typeof sent.headers !== 'object' || !sent.headers) {
    return undefined;
  }
  return { code: sent.code, headers: sent.headers as Record<string, string | string[]> };
}

/**
 * Whether an entry says the app's response closed before its headers (a `response-aborted`
 * entry without what it had `sent`): fetch rejects then, with a network error.
 */
export function closedBeforeHeaders(entry: BatchResult): boolean {
  const body = entry.body as { reason?: unknown; sent?: unknown } | null | undefined;
  return (
    entry.code === 502 &&
    typeof body === 'object' &&
    body?.reason === 'response-aborted' &&
    body.sent === undefined
  );
}

/** A body that fails as fetch's does when the connection drops before its end. */
function terminated(entry: BatchResult): ReadableStream<Uint8Array> {
  const { message } = entry.body as { message?: unknown };
  const error = new TypeError('terminated', {
    cause: new Error(typeof message === 'string' ? message : 'the response closed before its end'),
  });
  return new ReadableStream({ start: (controller) => controller.error(error) });
}

/**
 * `body`, failing with the signal's reason if the signal aborts before it has been read to its
 * end, as the body of a fetch does. The signal holds the body only weakly, as fetch's does: a
 * page's one signal outlives its calls, and must not keep a response nobody reads (its
 * listener goes once the body is read, cancelled, or collected).
 */
function abortable(
  body: ReadableStream<Uint8Array>,
  signal: AbortSignal,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let stop = (): void => undefined;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      if (signal.aborted) return failBoth(controller, reader, signal.reason);
      const unlisten = listenWeakly(signal, controller, reader);
      // The controller lives as long as the stream does.
      droppedBodies.register(controller, unlisten, unlisten);
      stop = () => {
        unlisten();
        droppedBodies.unregister(unlisten);
      };
    },
    async pull(controller) {
      const { done, value } = await reader.read();
      if (!done) return controller.enqueue(value);
      stop();
      controller.close();
    },
    cancel(reason) {
      stop();
      return reader.cancel(reason);
    },
  });
}

/** Takes the abort listener of a body collected unread off its signal. */
const droppedBodies = new FinalizationRegistry<() => void>((unlisten) => unlisten());

/**
 * Fails the body when the signal aborts, and returns what takes the listener off. Made in a
 * scope of its own: the listener and its removal (which the signal and the registry hold) reach
 * the body only through weak references, never through the scope of the stream they serve.
 */
function listenWeakly(
  signal: AbortSignal,
  controller: ReadableStreamDefaultController<Uint8Array>,
  reader: ReadableStreamDefaultReader<Uint8Array>,
): () => void {
  const controllerRef = new WeakRef(controller);
  const readerRef = new WeakRef(reader);
  const onAbort = (): void => {
    const controller = controllerRef.deref();
    const reader = readerRef.deref();
    if (controller && reader) failBoth(controller, reader, signal.reason);
  };
  signal.addEventListener('abort', onAbort, { once: true });
  return () => signal.removeEventListener('abort', onAbort);
}

function failBoth(
  controller: ReadableStreamDefaultController<Uint8Array>,
  reader: ReadableStreamDefaultReader<Uint8Array>,
  reason: unknown,
): void {
  controller.error(reason);
  void reader.cancel(reason);
}

/**
 * The JSON text of entries' bodies as the batch reply carried them (the app's, relayed as it
 * wrote it): a Response gives it, not the parsed value written again.
 */
const jsonTexts = new WeakMap<object, string>();

/** Keeps the text `entry`'s body had in the reply. */
export function keepJsonText(entry: object, text: string): void {
  jsonTexts.set(entry, text);
}

/** Gives `copy` (an entry made from `entry`, its body the same) the text `entry`'s body had. */
export function sameJsonText<T extends object>(entry: object, copy: T): T {
  const text = jsonTexts.get(entry);
  if (text !== undefined) jsonTexts.set(copy, text);
  return copy;
}

function bodyOf(
  entry: BatchResult,
  contentType: string | null,
): ConstructorParameters<typeof Response>[0] {
  if (entry.body === undefined || NULL_BODY.has(entry.code)) return null;
  if (entry.bodyEncoding === 'base64' && typeof entry.body === 'string') {
    return Uint8Array.from(atob(entry.body), (char) => char.charCodeAt(0));
  }
  const json = JSON_MEDIA_TYPE.test(contentType ?? '');
  const text =
    typeof entry.body === 'string' && !json
      ? entry.body
      : ((json ? jsonTexts.get(entry) : undefined) ?? JSON.stringify(entry.body));
  // As bytes when the app gave no type: a Response made of a string would add text/plain.
  return contentType === null ? new TextEncoder().encode(text) : text;
}
