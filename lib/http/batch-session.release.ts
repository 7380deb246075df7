/** The parts of express-session's `req` and @fastify/session's `request` read here. */
interface SessionHolder {
  session?: { sessionId?: unknown } | null;
  sessionID?: unknown;
  sessionStore?: unknown;
}

/**
 * Keeps app-wide session middleware from saving the batch request's own session. It loaded that
 * session before the operations ran and would save it when the reply ends, over what the
 * operations saved meanwhile (each operation is a request of its own, and loads and saves its
 * session itself): express-session with `resave: true` (its default) and @fastify/session with
 * its defaults both lose every write an operation made. Without a session id on the request,
 * express-session neither saves, touches, destroys (`unset: 'destroy'`) nor sets its cookie at
 * the end; without a session, @fastify/session's `onSend` does nothing. The session stays
 * readable as loaded until then (`req.session` on Express), so guards that ran on the batch
 * request were not affected. Only store-backed sessions (a `sessionStore` on the request) are
 * touched: cookie-session and the like write only what changed, and `req.session = null` would
 * clear theirs.
 */
export function releaseBatchSession(request: object): void {
  const holder = request as SessionHolder;
  if (holder.sessionStore === undefined || holder.sessionStore === null) return;
  if (typeof holder.sessionID === 'string') {
    holder.sessionID = undefined;
    return;
  }
  if (holder.session && typeof holder.session.sessionId === 'string') holder.session = null;
}
