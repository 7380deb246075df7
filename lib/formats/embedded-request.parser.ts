import httpParser from 'http-parser-js';

const { HTTPParser } = httpParser;

/** An HTTP request written out inside a multipart part (`application/http`). */
export interface EmbeddedRequest {
  readonly method: string;
  /** The request target as written: origin form (`/items?x=1`) or absolute form. */
  readonly target: string;
  /** Header fields in order, names as written. */
  readonly headers: readonly (readonly [string, string])[];
  /** Everything after the blank line that ends the head, up to the part's end. */
  readonly body: Buffer;
}

/** The part does not hold an HTTP request; the message says what the parser found wrong. */
export class EmbeddedRequestError extends Error {}

const END_OF_HEAD = Buffer.from('\r\n\r\n');
const LF = 0x0a;
const CR = 0x0d;
const HEADER_LINE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+:/;

/** Thrown from the parser's callback to stop it at the end of the head. */
const HEAD_DONE = new Error('the head is complete');

/**
 * Parses a part's embedded request with http-parser-js (a port of Node's own parser) up to the
 * end of its head; the body is the rest of the part, whether or not a Content-Length is given,
 * because the part's boundary already delimits it (batch clients rarely write Content-Length).
 * A request line without an HTTP version (`GET /items`, as in Google's documentation) is read as
 * HTTP/1.1. Only the head is given to the parser: the body is a view of `bytes`, as they are.
 */
export function parseEmbeddedRequest(bytes: Buffer): EmbeddedRequest {
  let start = 0;
  // Blank lines before the request line are tolerated, as by HTTP servers.
  while (bytes[start] === CR || bytes[start] === LF) start++;
  const headEnd = endOfHead(bytes, start);
  const head = withVersion(bytes.subarray(start, headEnd));
  const parser = new HTTPParser(HTTPParser.REQUEST);
  let parsed: { method: string; url: string; headers: string[] } | undefined;
  let parsedEnd = 0;
  parser[HTTPParser.kOnHeadersComplete] = (info) => {
    parsed = {
      method: HTTPParser.methods[info.method] ?? '',
      url: info.url,
      headers: info.headers,
    };
    // Where the parser stands when the head is complete: the first byte of the body.
    parsedEnd = (parser as unknown as { offset: number }).offset;
    throw HEAD_DONE;
  };
  // http-parser-js skips a malformed header line (and folds continuation lines) silently; a part
  // loses nothing here: such a line makes the part unreadable, as Node's own parser would.
  const parseHeader = parser.parseHeader.bind(parser);
  parser.parseHeader = (line, headers) => {
    if (!HEADER_LINE.test(line)) throw new Error(`malformed header line "${line.slice(0, 60)}"`);
    parseHeader(line, headers);
  };
  let error: unknown;
  // Header bytes read as Node reads them for a direct request, latin1: http-parser-js's default
  // is ASCII, which dropped the high bit (`café` in Latin-1 reached the app as `cafi`). Its
  // encoding is the module's, shared: set for this one synchronous parse, then given back.
  const encoding = HTTPParser.encoding;
  HTTPParser.encoding = 'latin1';
  try {
    // A blank line added at the end: the head of a body-less part often lacks its own, because
    // the line break before the boundary belongs to the boundary.
    const result = parser.execute(Buffer.concat([head, END_OF_HEAD]));
    if (result instanceof Error) error = result;
  } catch (thrown) {
    if (thrown !== HEAD_DONE) error = thrown;
  } finally {
    HTTPParser.encoding = encoding;
  }
  if (!parsed) {
    const reason = error instanceof Error ? `: ${error.message}` : ': the head does not end';
    throw new EmbeddedRequestError(`its content is not an HTTP request${reason}`);
  }
  const headers: [string, string][] = [];
  for (let i = 0; i + 1 < parsed.headers.length; i += 2) {
    headers.push([parsed.headers[i] ?? '', parsed.headers[i + 1] ?? '']);
  }
  // The parser ends the head where endOfHead does; past the head it was given, it read the blank
  // line added, and the part has no body. `withVersion` may have lengthened the request line.
  const added = head.length - (headEnd - start);
  const body = bytes.subarray(parsedEnd > head.length ? bytes.length : start + parsedEnd - added);
  return { method: parsed.method, target: parsed.url, headers, body };
}

/**
 * Just past the blank line that ends the head begun at `start` (`\n\n`, or `\n\r\n`: the first
 * empty line, as the parser reads lines), or the end of `bytes` when the head has none.
 */
function endOfHead(bytes: Buffer, start: number): number {
  for (let lf = bytes.indexOf(LF, start); lf !== -1; lf = bytes.indexOf(LF, lf + 1)) {
    if (bytes[lf + 1] === LF) return lf + 2;
    if (bytes[lf + 1] === CR && bytes[lf + 2] === LF) return lf + 3;
  }
  return bytes.length;
}

/** `GET /items` -> `GET /items HTTP/1.1`, leaving any other first line alone. */
function withVersion(bytes: Buffer): Buffer {
  const lineEnd = bytes.indexOf(LF);
  const line = bytes.subarray(0, lineEnd === -1 ? bytes.length : lineEnd).toString('latin1');
  const match = /^(\S+) (\S+?)(\r?)$/.exec(line);
  if (!match) return bytes;
  const fixed = `${match[1] ?? ''} ${match[2] ?? ''} HTTP/1.1${match[3] ?? ''}\n`;
  const rest = lineEnd === -1 ? Buffer.alloc(0) : bytes.subarray(lineEnd + 1);
  return Buffer.concat([Buffer.from(fixed, 'latin1'), rest]);
}
