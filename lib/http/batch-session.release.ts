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
 * the end; without a session id, @fastify/session's `onSend` does nothing. The session stays
 * readable as loaded until then, on both, so guards, hooks and interceptors that read it on the
 * batch request are not affected. Only store-backed sessions (a `sessionStore` on the request) are
 * touched: a client-side session (cookie-session, @fastify/secure-session) is its cookie, which
 * `req.session = null` would clear; what it writes on the batch reply goes before the
 * operations' cookies (`relayedCookiesLast`).
 */
export function releaseBatchSession(request: object): void {
  const holder = request as SessionHolder;
  if (holder.sessionStore === undefined || holder.sessionStore === null) return;
  if (typeof holder.sessionID === 'string') {
    holder.sessionID = undefined;
    return;
  }
  const { session } = holder;
  if (session && typeof session.sessionId === 'string') {
    // A view of it without its id, which @fastify/session's `onSend` does not save: code that
    // reads the session after the handler (an `onSend` hook naming the user, an audit
    // interceptor) reads it as loaded, as on any request. `null` there failed the whole batch
    // with a 500 after its operations had run. What is written to the view is not kept.
    holder.session = Object.create(session, {
      sessionId: { value: undefined },
    }) as typeof session;
  }
}
