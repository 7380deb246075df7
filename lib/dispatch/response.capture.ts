import type { OutgoingHttpHeader, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { DispatchResponse } from './operation.dispatcher.js';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding']);

/** Node's own `write` or `end` of a response, called with it as `this`. */
type NodeCall = (...args: never[]) => unknown;

/** Records what the app writes to a response, up to `maxBytes`. */
export interface ResponseCapture {
  /** Stops recording: the operation was abandoned. */
  stop(): void;
  /** What the app answered; call after `'finish'`. */
  result(): DispatchResponse;
  /** The response's headers as `result()` gives them, at any time. */
  headers(): Record<string, string | string[]>;
  /**
   * The status of the header block Node rendered (what a client reads), or the response's
   * `statusCode` while none is: a status set after the headers is not the one sent.
   */
  status(): number;
  /** Whether the body passed `maxBytes`: the rest is not recorded. */
  pastCap(): boolean;
}

/**
 * Hooks `writeHead`, `write` and `end` as own properties (Express re-points the prototype of
 * the response, which would bypass subclass methods). The original methods still run, so the
 * response lifecycle (`'finish'`, `headersSent`, on-finished listeners) is the real one. `write`
 * gives the back-pressure of the operation's connection (operation.socket.ts).
 */
export function captureResponse(
  response: ServerResponse,
  maxBytes: number,
  /** Called once when the headers go out before the end (a write, `flushHeaders`). */
  onHeadersSent?: () => void,
  /** Called on the turn after a write took the body past `maxBytes` (`setImmediate`). */
  onPastCap?: () => void,
): ResponseCapture {
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  let recording = true;
  let headHeaders: Record<string, string | string[]> = {};
  /** The status of the header block Node rendered (`writeHead`, explicit or implicit). */
  let sentStatus: number | undefined;
  /** The body when the app wrote it as one UTF-8 string (most JSON and text answers). */
  let text: string | undefined;
  let writes = 0;

  let stopped = false;
  // Let go at `stop`: the caller's callbacks hold the whole operation (its request, its
  // dispatcher's state), and the hooks below live as long as the response, which an app or a
  // framework may keep after the operation ended. Held until the end, they doubled the GC time
  // of a batched operation (bench/machinery.mjs --real).
  let headersSentListener = onHeadersSent;
  let pastCapListener = onPastCap;

  /**
   * Calls Node's `write` or `end` after `keep` has taken its chunk; if Node refuses the call (it
   * throws) before anything of it reached the connection, what `keep` took is put back. The
   * state before is held in this call's own variables: a call may start inside another (an
   * on-headers listener writing from the implicit `writeHead`).
   */
  const kept = (response: ServerResponse, args: unknown[], method: NodeCall): unknown => {
    const hadChunks = chunks.length;
    const hadSize = size;
    const hadWrites = writes;
    const hadText = text;
    const hadTruncated = truncated;
    const sentBefore = writesOn(response);
    keep(response, args[0], args[1]);
    try {
      return Reflect.apply(method, response, args);
    } catch (error) {
      // What reached the connection was sent (a Content-Length mismatch throws after the
      // chunk went out): only a call refused outright leaves nothing.
      if (writesOn(response) === sentBefore) {
        chunks.length = hadChunks;
        size = hadSize;
        writes = hadWrites;
        text = hadText;
        truncated = hadTruncated;
        // Past the cap only by the refused chunk: recording goes on, unless stopped meanwhile.
        recording = !stopped && !hadTruncated;
      }
      throw error;
    }
  };

  const keep = (response: ServerResponse, chunk: unknown, encoding: unknown): void => {
    if (!recording || chunk === undefined || chunk === null || typeof chunk === 'function') return;
    // Past its end, Node sends nothing more (a write fails with ERR_STREAM_WRITE_AFTER_END, a
    // second end() is ignored): neither does the entry. Nor a body where none is due (HEAD,
    // 204, 304): Node drops it, and it counts against no cap.
    if (response.writableEnded || (response as { _hasBody?: boolean })._hasBody === false) return;
    const utf8 = typeof chunk === 'string' && (typeof encoding !== 'string' || isUtf8(encoding));
    writes++;
    // A lone surrogate would be U+FFFD in the bytes the client gets: the text must say the same.
    text = writes === 1 && utf8 && isWellFormed(chunk) ? chunk : undefined;
    const bytes =
      typeof chunk === 'string'
        ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8')
        : ArrayBuffer.isView(chunk)
          ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
          : undefined;
    if (!bytes) return;
    if (size + bytes.length > maxBytes) {
      truncated = true;
      recording = false;
      if (pastCapListener) setImmediate(pastCapListener);
      return;
    }
    size += bytes.length;
    chunks.push(bytes);
  };

  // Called with Reflect.apply and the response as `this`, never detached.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const { writeHead, write, end } = response;
  response.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    // Node keeps headers passed here only if some were set before, so read them now.
    const headers = args.find((arg) => typeof arg === 'object' && arg !== null);
    let counted: CountedHeaders | undefined;
    if (headers) {
      counted = new CountedHeaders();
      normaliseHeaders(headers as OutgoingHttpHeaders | OutgoingHttpHeader[], counted);
    }
    // The final head: what the connection took before it was informational (103, 100).
    if (!renderedHeader(this)) {
      const socket = this.socket as { finalHeadFollows?: () => void } | null;
      socket?.finalHeadFollows?.();
    }
    // Kept only once Node took them: of a writeHead that throws (headers already sent, an
    // invalid status, a value with CR/LF), a client gets only what Node applied before it threw,
    // which `getHeaders()` shows (keys set one by one once a header was set before).
    const written = Reflect.apply(writeHead, this, args) as ServerResponse;
    if (counted) headHeaders = counted.headers;
    // The status line is rendered now: a status set later is not what the client reads.
    sentStatus = this.statusCode;
    return written;
  };
  let announced = onHeadersSent === undefined;
  let deferred = false;
  const announce = (): void => {
    if (announced || response.writableEnded) return;
    if (!sentHeader(response)) {
      // Written, but held by the connection's cork (Node corks a response's first write until
      // the next tick; an app may cork longer): told when they go out, unless destroyed first.
      if (!deferred && renderedHeader(response)) {
        deferred = true;
        // Only the operation's socket holds writes back (`sentHeader`): it tells when they go.
        const socket = response.socket as { afterFlush?: (callback: () => void) => void } | null;
        socket?.afterFlush?.(announce);
      }
      return;
    }
    announced = true;
    headersSentListener?.();
  };
  response.write = function (this: ServerResponse, ...args: unknown[]) {
    // Refused: a chunk that is not a string or bytes, a length past a strict Content-Length.
    const written = kept(this, args, write) as boolean;
    if (!announced) announce();
    return written;
  } as typeof response.write;
  if (onHeadersSent) {
    // eslint-disable-next-line @typescript-eslint/unbound-method
    const { flushHeaders } = response;
    response.flushHeaders = function (this: ServerResponse) {
      Reflect.apply(flushHeaders, this, []);
      announce();
    };
  }
  response.end = function (this: ServerResponse, ...args: unknown[]) {
    return kept(this, args, end) as ServerResponse;
  } as typeof response.end;

  const countHeaders = (): CountedHeaders => {
    const counted = new CountedHeaders(headHeaders);
    normaliseHeaders(response.getHeaders(), counted);
    return counted;
  };
  return {
    stop: () => {
      stopped = true;
      recording = false;
      headersSentListener = undefined;
      pastCapListener = undefined;
    },
    headers: () => countHeaders().headers,
    status: () => sentStatus ?? response.statusCode,
    pastCap: () => truncated,
    result: () => {
      const statusCode = sentStatus ?? response.statusCode;
      const { headers, bytes: headerBytes } = countHeaders();
      if (isBodiless(response, statusCode))
        return { statusCode, headers, headerBytes, body: Buffer.alloc(0), truncated: false };
      // One chunk is the body as it is: no copy.
      const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
      const whole = !truncated && text !== undefined && chunks.length === 1;
      return { statusCode, headers, headerBytes, body, truncated, ...(whole ? { text } : {}) };
    },
  };
}

/**
 * How many writes the response's connection has taken (the operation's socket counts them), or
 * undefined on another socket or none: then any refused call is taken to have sent nothing.
 */
function writesOn(response: ServerResponse): number | undefined {
  return (response.socket as { writeCalls?: number } | null)?.writeCalls;
}

/**
 * Whether the response's header block reached the client: written to its connection (not only
 * rendered by `writeHead`), and not held there by a cork. A write Node corks goes out on the next
 * tick; a connection destroyed before then never sends it.
 */
export function sentHeader(response: ServerResponse): boolean {
  if (!renderedHeader(response)) return false;
  const flushed = (response.socket as { flushedWrites?: number } | null)?.flushedWrites;
  return flushed === undefined || flushed > 0;
}

/** Whether Node wrote the response's header block to its connection (sent, or corked there). */
function renderedHeader(response: ServerResponse): boolean {
  return (response as { _headerSent?: boolean })._headerSent === true;
}

/** HTTP sends no body for these, whatever the handler wrote: the headers are the whole answer. */
export function isBodiless(response: ServerResponse, status = response.statusCode): boolean {
  return status === 204 || status === 304 || response.req.method === 'HEAD';
}

function isWellFormed(text: string): boolean {
  return (text as string & { isWellFormed(): boolean }).isWellFormed();
}

function isUtf8(encoding: string): boolean {
  const name = encoding.toLowerCase();
  return name === 'utf8' || name === 'utf-8';
}

/**
 * A header map and the bytes its headers take as sent (`name: value\r\n` each), counted as
 * they are put: the map, built by adding names, may be in dictionary mode, where a later walk
 * over it is slow.
 */
class CountedHeaders {
  readonly headers: Record<string, string | string[]>;
  bytes = 0;

  constructor(base?: Readonly<Record<string, string | string[]>>) {
    this.headers = { ...base };
    if (base) for (const name of Object.keys(base)) this.bytes += sizeOf(name, base[name]);
  }

  put(name: string, value: string | string[]): void {
    const before = this.headers[name];
    if (before !== undefined) this.bytes -= sizeOf(name, before);
    this.headers[name] = value;
    this.bytes += sizeOf(name, value);
  }
}

function sizeOf(name: string, value: string | string[] | undefined): number {
  if (typeof value === 'string') return name.length + value.length + 4;
  let bytes = 0;
  for (const one of value ?? []) bytes += name.length + one.length + 4;
  return bytes;
}

/**
 * Lower-case names, string values, `set-cookie` always an array, hop-by-hop headers dropped;
 * put into `out` (over what it holds). Called once per operation, hence the plain loops.
 */
function normaliseHeaders(
  headers: OutgoingHttpHeaders | readonly OutgoingHttpHeader[],
  out: CountedHeaders,
): void {
  const put = (rawName: string, value: OutgoingHttpHeader | undefined): void => {
    const name = rawName.toLowerCase();
    if (value === undefined || HOP_BY_HOP.has(name)) return;
    if (name === 'set-cookie') out.put(name, (Array.isArray(value) ? value : [value]).map(String));
    else out.put(name, Array.isArray(value) ? value.map(String).join(', ') : String(value));
  };
  if (!Array.isArray(headers)) {
    const record = headers as OutgoingHttpHeaders;
    for (const name of Object.keys(record)) put(name, record[name]);
  } else if (headers.every((entry) => Array.isArray(entry))) {
    // writeHead also takes [[name, value], ...] or [name, value, name, value, ...].
    for (const [name, value] of headers as unknown as [string, OutgoingHttpHeader][]) {
      put(name, value);
    }
  } else {
    const flat = headers as readonly OutgoingHttpHeader[];
    for (let i = 0; i + 1 < flat.length; i += 2) put(String(flat[i]), flat[i + 1]);
  }
}
