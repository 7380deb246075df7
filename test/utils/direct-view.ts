import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:http2';
import type { Entry } from './test-app.js';

/** What a client reached directly saw. */
export type DirectView =
  | { kind: 'complete'; status: number; body: string }
  | { kind: 'dropped-before-headers' }
  | { kind: 'dropped-after-headers'; status: number };

export function direct(base: string, path: string, http2 = false): Promise<DirectView> {
  if (http2) return directHttp2(base, path);
  return directHttp1(base, path).then(({ view }) => view);
}

/** As `direct` (HTTP/1.1), with the headers the client read (none when it dropped before them). */
export function directWithHeaders(
  base: string,
  path: string,
): Promise<DirectView & { headers: IncomingHttpHeaders }> {
  return directHttp1(base, path).then(({ view, headers }) => ({ ...view, headers }));
}

function directHttp1(
  base: string,
  path: string,
): Promise<{ view: DirectView; headers: IncomingHttpHeaders }> {
  return new Promise((resolve) => {
    const req = httpRequest(new URL(path, base), { agent: false }, (res) => {
      const { headers } = res;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () =>
        resolve({ view: { kind: 'complete', status: res.statusCode ?? 0, body }, headers }),
      );
      // Node reports a connection lost mid-body as 'aborted' then 'error' or just 'close'.
      res.on('error', () => undefined);
      res.on('close', () => {
        if (!res.complete) {
          resolve({
            view: { kind: 'dropped-after-headers', status: res.statusCode ?? 0 },
            headers,
          });
        }
      });
    });
    req.on('error', () => resolve({ view: { kind: 'dropped-before-headers' }, headers: {} }));
    req.end();
  });
}

/** The entry, put in the direct client's terms. */
export function viewOf(entry: Entry | null): string {
  if (entry === null) return 'null (the batch waited for its timeout)';
  if (entry.body?.reason === 'response-aborted') return 'dropped';
  return `complete ${entry.code}`;
}

/** The direct view, in the same terms: the batch cannot tell before from after the headers. */
export function expectedOf(view: DirectView): string {
  return view.kind === 'complete' ? `complete ${view.status}` : 'dropped';
}

export function bodyText(entry: Entry): string {
  if (entry.body === undefined) return '';
  return typeof entry.body === 'string' ? entry.body : JSON.stringify(entry.body);
}

/** The same over HTTP/2 (h2c): a dropped response is a reset stream, not a closed connection. */
function directHttp2(base: string, path: string): Promise<DirectView> {
  return new Promise((resolve) => {
    const session = connect(base);
    session.on('error', () => undefined);
    const stream = session.request({ ':path': path });
    let status: number | undefined;
    let body = '';
    stream.setEncoding('utf8');
    stream.on('response', (headers) => (status = Number(headers[':status'])));
    stream.on('data', (chunk: string) => (body += chunk));
    stream.on('error', () => undefined);
    stream.on('close', () => {
      session.close();
      const complete = stream.rstCode === 0 && stream.readableEnded;
      if (complete && status !== undefined) resolve({ kind: 'complete', status, body });
      else if (status === undefined) resolve({ kind: 'dropped-before-headers' });
      else resolve({ kind: 'dropped-after-headers', status });
    });
    stream.end();
  });
}
