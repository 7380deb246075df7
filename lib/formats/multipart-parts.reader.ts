import {
  MultipartParseError,
  parseMultipart,
  type MultipartHeaders,
} from '@remix-run/multipart-parser';

/** One part of a multipart body: its MIME headers and its body's bytes, exactly as sent. */
export interface MultipartBodyPart {
  /** Names lower-cased, repeated ones joined with `, `. */
  readonly headers: MultipartHeaders;
  /** The Content-Type's media type, if any, as written. */
  readonly mediaType: string | undefined;
  /** A view of the body it was read from, not a copy. */
  readonly bytes: Buffer;
}

const LF = 0x0a;
const CR = 0x0d;
const CRLF = Buffer.from('\r\n', 'latin1');

/**
 * The parts of a `multipart/*` body (a multipart batch, or an OData change set inside one), read
 * by @remix-run/multipart-parser. A preamble before the first boundary is ignored, as RFC 2046
 * says (some clients start with a blank line). Framing with LF line ends is read as well as
 * CRLF; either way, a part's body is the bytes the client wrote, none rewritten.
 * @throws MultipartParseError, MaxPartsExceededError (a subclass) past `maxParts`.
 */
export function* readMultipartParts(
  bytes: Buffer,
  boundary: string,
  maxParts: number,
): Generator<MultipartBodyPart> {
  const framed = crlfFramed(bytes, boundary);
  try {
    for (const part of parseMultipart(framed, {
      boundary,
      maxParts,
      maxFileSize: framed.length,
      maxTotalSize: framed.length,
      maxHeaderSize: 16 * 1024,
    })) {
      yield { headers: part.headers, mediaType: part.mediaType, bytes: viewOf(part.content) };
    }
  } catch (error) {
    if (error instanceof MultipartParseError) throw error;
    // A part's MIME header the parser's Headers refuse (a byte that is not UTF-8 decodes to
    // U+FFFD, no header byte): a part the batch cannot read, the client's error (it was a 500).
    throw new MultipartParseError(
      `a part's headers cannot be read (${error instanceof Error ? error.message : String(error)})`,
    );
  }
}

/**
 * The body from its first boundary on, framed with CRLF, which is all the parser reads. A body
 * whose first boundary line ends with CRLF is taken as it is (a view, no copy). One whose first
 * boundary line ends with LF (JavaScript templates, `@jrmdayn/googleapis-batcher`, hand-written
 * bodies) has its framing rewritten, and only its framing: each part's boundary line and head
 * get CRLF line ends, and each delimiter `\n--boundary` becomes `\r\n--boundary`. A part's body
 * is copied as it is: its LF and CR bytes are data (a CSV's line ends, a PNG's header), and the
 * LF before a delimiter is the delimiter's, as RFC 2046 says of the CRLF before one.
 */
export function crlfFramed(bytes: Buffer, boundary: string): Buffer {
  const dashBoundary = `--${boundary}`;
  const first = bytes.indexOf(dashBoundary);
  if (first === -1) return bytes;
  const body = bytes.subarray(first);
  if (body[dashBoundary.length] === CR) return body;
  return lfReframed(body, dashBoundary);
}

/**
 * `body`, which starts with `--boundary` and is framed with LF, framed with CRLF: its bytes in
 * one copy, read once, and the framing's lines (a few short ones a part) rewritten.
 */
function lfReframed(body: Buffer, dashBoundary: string): Buffer {
  const delimiter = Buffer.from(`\n${dashBoundary}`, 'latin1');
  const pieces: Buffer[] = [];
  // Where a boundary line starts: the body's start, then just after each delimiter's LF.
  let at = 0;
  for (;;) {
    if (isCloseDelimiter(body, at, dashBoundary.length)) {
      // The epilogue after it is ignored by the parser, as RFC 2046 says.
      pieces.push(body.subarray(at));
      break;
    }
    const next = body.indexOf(delimiter, at);
    // The boundary line, the part's head and the part's body, up to the next delimiter.
    const segment = body.subarray(at, next === -1 ? body.length : next);
    const bodyStart = afterBlankLine(segment);
    pieces.push(crlfLines(segment.subarray(0, bodyStart)), segment.subarray(bodyStart));
    if (next === -1) break;
    pieces.push(CRLF);
    at = next + 1;
  }
  return Buffer.concat(pieces);
}

/** Whether the boundary line at `at` is `--boundary--`, the last. */
function isCloseDelimiter(body: Buffer, at: number, dashBoundaryLength: number): boolean {
  const end = at + dashBoundaryLength;
  return body[end] === 0x2d && body[end + 1] === 0x2d;
}

/**
 * Where the part's body starts in a segment that begins with its boundary line: just after the
 * first blank line (`\n\n`, or `\n\r\n` where a line of the head kept its CR). Without one, the
 * segment is all head (a malformed part, which the parser reports), and its end is returned.
 */
function afterBlankLine(segment: Buffer): number {
  for (let lf = segment.indexOf(LF); lf !== -1; lf = segment.indexOf(LF, lf + 1)) {
    if (segment[lf + 1] === LF) return lf + 2;
    if (segment[lf + 1] === CR && segment[lf + 2] === LF) return lf + 3;
  }
  return segment.length;
}

/** Framing lines with CRLF line ends: a boundary line and a part's head, each a few bytes. */
function crlfLines(lines: Buffer): Buffer {
  return Buffer.from(lines.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
}

/**
 * The parser's chunks of a part's body as one Buffer. Read from one buffer, a part is one chunk
 * (a view of it): viewed, not copied (`part.bytes` copies it, and `Buffer.from` again).
 */
function viewOf(chunks: readonly Uint8Array[]): Buffer {
  const [only] = chunks;
  if (chunks.length === 1 && only) return Buffer.from(only.buffer, only.byteOffset, only.length);
  return Buffer.concat(chunks);
}
