import { MaxPartsExceededError, MultipartParseError } from '@remix-run/multipart-parser';
import { BatchLimitExceededException } from '../batch.exceptions.js';
import { EmbeddedRequestError, parseEmbeddedRequest } from './embedded-request.parser.js';
import { readMultipartParts } from './multipart-parts.reader.js';

/** One request of an OData change set. */
export interface ChangeSetRequest {
  /**
   * Its Content-ID, brackets removed: the one written, or, for a request sent without one, its
   * 1-based position in the change set.
   */
  readonly contentId: string;
  /** The Content-ID header as the request wrote it (trimmed); undefined when it had none. */
  readonly written: string | undefined;
  readonly method: string;
  /** The request target as written: a path, or a `$<Content-ID>` reference with a rest. */
  readonly target: string;
  /**
   * When the target is `$<Content-ID>...`: the Content-ID of the earlier request of the same
   * change set whose created entity it names (OData 4.0 §11.7.3.1), and what follows it.
   */
  readonly reference?: { readonly contentId: string; readonly rest: string };
  /** The embedded request's bytes (request line, headers, body), as the part holds them. */
  readonly bytes: Buffer;
}

/** An OData change set: requests that succeed or fail together (OData 4.0 §11.7.3). */
export interface ChangeSet {
  readonly requests: readonly ChangeSetRequest[];
}

/** The change set cannot be read; the message says why, for a 400 naming its part. */
export class ChangeSetError extends Error {}

/** `$1`, `$1/Orders`, `$item-2?x=1`: a request target naming an earlier request's entity. */
const REFERENCE = /^\$([^/?]+)(.*)$/;

/** A request of the change set as read, before its Content-ID is settled. */
interface ReadRequest {
  readonly written: string | undefined;
  readonly id: string | undefined;
  readonly method: string;
  readonly target: string;
  readonly bytes: Buffer;
}

/**
 * Parses a change set: a `multipart/mixed` part of a multipart batch whose own parts are the
 * `application/http` requests of one atomic group. A Content-ID must be unique in the change
 * set, and a `$<Content-ID>` target may only name a request before it in the same change set,
 * as OData 4.0 defines them. Change sets do not nest.
 *
 * OData 4.0 requires a Content-ID on every request of a change set, but OData 2.0 and 3.0 did
 * not, and most OData clients still write none (`@odata/client`, Apache Olingo's `odatajs`,
 * PnPjs). Such a request is numbered by its 1-based position, unless that number is another
 * request's Content-ID: then `$<n>` could name either, and the change set is refused.
 * @param bytes The part's body, framed with CRLF or LF line ends; its requests' bodies are
 * passed on as their bytes.
 * @param boundary The boundary of the part's own Content-Type.
 * @param limit Most requests the change set may hold: the batch's operation limit.
 * @throws ChangeSetError; BatchLimitExceededException past `limit`, as a batch over it.
 */
export function parseChangeSet(bytes: Buffer, boundary: string, limit: number): ChangeSet {
  const read = readRequests(bytes, boundary, limit);
  if (read.length === 0) throw new ChangeSetError('the change set holds no request');
  const label = (position: number): string => `request ${position + 1} of the change set`;
  const named = new Map<string, number>();
  read.forEach(({ id }, position) => {
    if (id === undefined) return;
    if (named.has(id))
      throw new ChangeSetError(`${label(position)}: Content-ID ${id} is not unique`);
    named.set(id, position);
  });
  const ids = read.map(({ id }, position) => {
    if (id !== undefined) return id;
    const number = String(position + 1);
    const other = named.get(number);
    if (other !== undefined) {
      throw new ChangeSetError(
        `${label(position)} has no Content-ID, and $${number} would also name ${label(other)}: give every request of this change set a Content-ID`,
      );
    }
    return number;
  });
  const seen = new Set<string>();
  const requests = read.map(({ written, method, target, bytes: http }, position) => {
    const match = REFERENCE.exec(target);
    const reference = match ? { contentId: match[1] ?? '', rest: match[2] ?? '' } : undefined;
    if (reference && !seen.has(reference.contentId)) {
      throw new ChangeSetError(
        `${label(position)}: $${reference.contentId} names no earlier Content-ID of its change set`,
      );
    }
    const contentId = ids[position] ?? '';
    seen.add(contentId);
    return { contentId, written, method, target, reference, bytes: http };
  });
  return { requests };
}

/** Every request of the change set, each with the Content-ID it wrote, if any. */
function readRequests(bytes: Buffer, boundary: string, limit: number): ReadRequest[] {
  const requests: ReadRequest[] = [];
  try {
    for (const part of readMultipartParts(bytes, boundary, limit)) {
      const label = `request ${requests.length + 1} of the change set`;
      const type = part.mediaType?.toLowerCase();
      if (type === 'multipart/mixed')
        throw new ChangeSetError(`${label} is a change set: change sets do not nest`);
      if (type !== 'application/http') {
        throw new ChangeSetError(`${label} must be application/http, not ${type ?? 'untyped'}`);
      }
      const written = part.headers['content-id']?.trim() || undefined;
      const id = written?.replace(/^<(.*)>$/, '$1') || undefined;
      let request;
      const http = part.bytes;
      try {
        request = parseEmbeddedRequest(http);
      } catch (error) {
        if (!(error instanceof EmbeddedRequestError)) throw error;
        throw new ChangeSetError(`${label}: ${error.message}`);
      }
      requests.push({ written, id, method: request.method, target: request.target, bytes: http });
    }
  } catch (error) {
    if (error instanceof MaxPartsExceededError) {
      throw new BatchLimitExceededException(limit + 1, limit);
    }
    if (error instanceof MultipartParseError) {
      throw new ChangeSetError(`the change set cannot be read: ${error.message}`);
    }
    throw error;
  }
  return requests;
}
