import {
  MaxPartsExceededError,
  MultipartParseError,
  parseMultipart,
} from '@remix-run/multipart-parser';
import { EmbeddedRequestError, parseEmbeddedRequest } from './embedded-request.parser.js';

/** One request of an OData change set. */
export interface ChangeSetRequest {
  /** Its Content-ID, brackets removed; OData requires one on every request of a change set. */
  readonly contentId: string;
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

/**
 * Parses a change set: a `multipart/mixed` part of a multipart batch whose own parts are the
 * `application/http` requests of one atomic group. Every request must carry a Content-ID, unique
 * in the change set, and a `$<Content-ID>` target may only name a request before it in the same
 * change set, as OData 4.0 defines them. Change sets do not nest.
 * @param bytes The part's body, with CRLF line ends.
 * @param boundary The boundary of the part's own Content-Type.
 * @param limit Most requests the change set may hold: the batch's operation limit.
 * @throws ChangeSetError
 */
export function parseChangeSet(bytes: Buffer, boundary: string, limit: number): ChangeSet {
  const requests: ChangeSetRequest[] = [];
  const seen = new Set<string>();
  try {
    for (const part of parseMultipart(bytes, {
      boundary,
      maxParts: limit,
      maxFileSize: bytes.length,
      maxTotalSize: bytes.length,
      maxHeaderSize: 16 * 1024,
    })) {
      const label = `request ${requests.length + 1} of the change set`;
      const type = part.mediaType?.toLowerCase();
      if (type === 'multipart/mixed')
        throw new ChangeSetError(`${label} is a change set: change sets do not nest`);
      if (type !== 'application/http') {
        throw new ChangeSetError(`${label} must be application/http, not ${type ?? 'untyped'}`);
      }
      const contentId = part.headers['content-id']?.trim().replace(/^<(.*)>$/, '$1');
      if (!contentId)
        throw new ChangeSetError(`${label} needs a Content-ID, as OData requires in a change set`);
      if (seen.has(contentId))
        throw new ChangeSetError(`${label}: Content-ID ${contentId} is not unique`);
      let request;
      const http = Buffer.from(part.bytes);
      try {
        request = parseEmbeddedRequest(http);
      } catch (error) {
        if (!(error instanceof EmbeddedRequestError)) throw error;
        throw new ChangeSetError(`${label}: ${error.message}`);
      }
      const match = REFERENCE.exec(request.target);
      const reference = match ? { contentId: match[1] ?? '', rest: match[2] ?? '' } : undefined;
      if (reference && !seen.has(reference.contentId)) {
        throw new ChangeSetError(
          `${label}: $${reference.contentId} names no earlier Content-ID of its change set`,
        );
      }
      seen.add(contentId);
      requests.push({
        contentId,
        method: request.method,
        target: request.target,
        reference,
        bytes: http,
      });
    }
  } catch (error) {
    if (error instanceof MaxPartsExceededError) {
      throw new ChangeSetError(`the change set holds more than ${limit} requests (limit)`);
    }
    if (error instanceof MultipartParseError) {
      throw new ChangeSetError(`the change set cannot be read: ${error.message}`);
    }
    throw error;
  }
  if (requests.length === 0) throw new ChangeSetError('the change set holds no request');
  return { requests };
}
