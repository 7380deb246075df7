/**
 * The Node object under a framework's request or reply: Fastify wraps it as `.raw`, Express
 * extends it (the object itself). Everything outside `platform/` that is handed the framework's
 * objects (the controller, the guard, `getBatchOperation`) reaches Node's through this, so an
 * adapter that wraps them otherwise is taught here.
 */
export function nodeMessageOf(message: object): object {
  return 'raw' in message && typeof message.raw === 'object' && message.raw !== null
    ? message.raw
    : message;
}
