/**
 * multipart/mixed (Google's and OData's clients, Flask-Batch) has no reference syntax: a part
 * names an earlier one only as OData's `$<Content-ID>`. Text in a part that holds `{result=`
 * (a user's note, a template) was still read as the native format's reference: the whole batch
 * was refused (400), or, when the text named a part, the app got that part's answer in place of
 * the text.
 */
import { forEachPlatform } from './utils/platforms.js';
import { baseOf, multipartParts, postRaw } from './utils/raw-http.js';
import { useTestApp, type TestApp } from './utils/test-app.js';

const NOTE = 'Reply with {result=yes} or {result=1:$.query}';

interface Echoed {
  body: unknown;
  query: Record<string, unknown>;
  headers: Record<string, string>;
}

async function direct(t: TestApp, path: string, init?: RequestInit): Promise<Echoed> {
  return (await (await fetch(`${baseOf(t)}${path}`, init)).json()) as Echoed;
}

/** A batch of application/http parts, each its request's lines, Content-IDs 1, 2, ... */
function batchOf(requests: readonly string[]): string {
  return `${requests
    .map(
      (request, index) =>
        `--b\r\nContent-Type: application/http\r\nContent-ID: <${index + 1}>\r\n\r\n${request}\r\n`,
    )
    .join('')}--b--\r\n`;
}

async function echoedParts(t: TestApp, requests: readonly string[]): Promise<Echoed[]> {
  const reply = await postRaw(t, batchOf(requests), {
    'content-type': 'multipart/mixed; boundary=b',
  });
  expect(reply.status).toBe(200);
  return multipartParts(reply.headers['content-type'], reply.body).map((part) => {
    expect(part.code).toBe(200);
    return JSON.parse(part.body.toString('utf8')) as Echoed;
  });
}

forEachPlatform(() => {
  const t = useTestApp();

  it('gives the app a part body holding "{result=" as written, and answers the part beside it', async () => {
    const body = JSON.stringify({ note: NOTE });
    const [first, note] = await echoedParts(t, [
      'GET /echo?first=1 HTTP/1.1\r\n',
      `POST /echo HTTP/1.1\r\nContent-Type: application/json\r\n\r\n${body}`,
    ]);
    expect(first?.query).toEqual({ first: '1' });
    const sent = { method: 'POST', headers: { 'content-type': 'application/json' }, body };
    expect(note?.body).toEqual((await direct(t, '/echo', sent)).body);
  });

  it('gives the app a header and a query holding "{result=" as a direct request does', async () => {
    const path = '/echo?q={result=1:$.query}';
    const [, echoed] = await echoedParts(t, [
      'GET /echo?first=1 HTTP/1.1\r\n',
      `GET ${path} HTTP/1.1\r\nX-Note: ${NOTE}\r\n`,
    ]);
    const seen = await direct(t, path, { headers: { 'x-note': NOTE } });
    expect(echoed?.query).toEqual(seen.query);
    expect(echoed?.headers['x-note']).toBe(seen.headers['x-note']);
  });
});
