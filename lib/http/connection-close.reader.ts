import type { ServerResponse } from 'node:http';

/**
 * Whether a response's connection is to close after it: Node decided so (`shouldKeepAlive`
 * false: the client asked, or the server is closing), or the app set `Connection: close` (as
 * http-terminator does to the responses in flight when a graceful shutdown begins). Over
 * HTTP/2 there is no such header: a session ends with GOAWAY, not with a response.
 */
export function connectionCloses(response: ServerResponse): boolean {
  if ((response as { shouldKeepAlive?: boolean }).shouldKeepAlive === false) return true;
  const connection = response.getHeader('connection');
  return typeof connection === 'string' && /(?:^|,)\s*close\s*(?:,|$)/i.test(connection);
}
