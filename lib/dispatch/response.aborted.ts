import type { BatchOperationInfo } from './sub-request.marker.js';

/**
 * The app's response closed without ending, or ended short of the Content-Length it declared:
 * destroyed (`res.destroy()`, a failed stream piped with `pipeline`, a file that failed to send),
 * or its connection torn down (Express's final handler after an error past the headers, a socket
 * error). A client reached directly sees the connection drop (or, short of its Content-Length,
 * never sees the body end); the operation ends there, with the status the app had sent, if any.
 */
export class ResponseAbortedError extends Error {
  constructor(
    /** The status of the headers the app had sent, or undefined when it sent none. */
    readonly sentStatus: number | undefined,
    /**
     * The headers the app had sent (as an answer's are kept: lower case, `set-cookie` an
     * array), or undefined when it sent none. A browser has read them before the drop: it
     * stores their cookies, and a page of another origin reads the status only if they pass
     * the CORS check.
     */
    readonly sentHeaders?: Readonly<Record<string, string | string[]>>,
    /** How it ended, when not closed: ended short of its Content-Length. */
    why?: string,
  ) {
    super(
      why ??
        (sentStatus === undefined
          ? 'the response was closed before its headers were sent'
          : `the response was closed after its headers (${sentStatus}) were sent, before its end`),
    );
  }
}

/** What an abandoned operation's response had sent: its status and headers. */
export interface SentBeforeAbandon {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[]>>;
}

/** What each abandoned operation had sent, by the operation (its `info`). */
const sentBeforeAbandon = new WeakMap<BatchOperationInfo, SentBeforeAbandon>();

/**
 * Notes the status and headers an operation's response had sent when it was abandoned before
 * its end (a stream cut off by a timeout): a client reached directly has read them, and keeps
 * their cookies. Noted by the dispatcher, only then, so no operation pays for it otherwise.
 */
export function noteSentBeforeAbandon(info: BatchOperationInfo, sent: SentBeforeAbandon): void {
  sentBeforeAbandon.set(info, sent);
}

/** What {@link noteSentBeforeAbandon} noted for an abandoned operation, if anything. */
export function sentBeforeAbandonOf(info: BatchOperationInfo): SentBeforeAbandon | undefined {
  return sentBeforeAbandon.get(info);
}
