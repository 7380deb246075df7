/**
 * Bytes that are not UTF-8 in a multipart/mixed part's headers: a Latin-1 byte in an embedded
 * request's header reaches the app as Node gives it to a direct request (latin1, where the part
 * parser read ASCII and dropped the high bit), and one in a part's MIME header is a 400 naming
 * the part, as any part the batch cannot read (it was a 500).
 */
import { connect } from 'node:net';
import { forEachPlatform } from './utils/platforms.js';
import { baseOf, multipartParts, postRaw } from './utils/raw-http.js';
import { useTestApp, type TestApp } from './utils/test-app.js';

interface Echoed {
  url: string;
  body: unknown;
  query: Record<string, unknown>;
  headers: Record<string, string>;
}

/** A direct request written as raw bytes (its header line as given), its JSON answer. */
function directRaw(t: TestApp, head: Buffer): Promise<{ status: number; body: Echoed }> {
  const { port } = new URL(baseOf(t));
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => {
      socket.end(
        Buffer.concat([head, Buffer.from('Host: 127.0.0.1\r\nConnection: close\r\n\r\n')]),
      );
    });
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const status = Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1]);
      const bodyText = text.slice(text.indexOf('\r\n\r\n') + 4);
      // chunked or not: find the JSON
      const json = bodyText.slice(bodyText.indexOf('{'), bodyText.lastIndexOf('}') + 1);
      resolve({ status, body: JSON.parse(Buffer.from(json, 'latin1').toString('utf8')) as Echoed });
    });
  });
}

async function batched(
  t: TestApp,
  parts: Buffer[],
): Promise<{ status: number; parts: { code: number; body: string }[]; text: string }> {
  const body = Buffer.concat([
    ...parts.flatMap((p, i) => [
      Buffer.from(`--b\r\nContent-Type: application/http\r\nContent-ID: <${i + 1}>\r\n\r\n`),
      p,
      Buffer.from('\r\n'),
    ]),
    Buffer.from('--b--\r\n'),
  ]);
  const reply = await postRaw(t, body, { 'content-type': 'multipart/mixed; boundary=b' });
  if (reply.status !== 200) return { status: reply.status, parts: [], text: reply.text };
  return {
    status: reply.status,
    text: reply.text,
    parts: multipartParts(reply.headers['content-type'], reply.body).map((p) => ({
      code: p.code,
      body: p.body.toString('utf8'),
    })),
  };
}

forEachPlatform(() => {
  const t = useTestApp();

  // Directly, Node reads a header's bytes as latin1: the app gets "café". In a part, the
  // embedded request is read by http-parser-js, whose HTTPParser.encoding is 'ascii' (the high
  // bit dropped): the app gets "cafi".
  it('a part request header holding a Latin-1 byte reaches the app as a direct request gives it', async () => {
    const head = Buffer.concat([
      Buffer.from('GET /echo HTTP/1.1\r\nX-Name: caf'),
      Buffer.from([0xe9]),
      Buffer.from('\r\n'),
    ]);
    const direct = await directRaw(t, head);
    const batch = await batched(t, [head]);
    expect(batch.status).toBe(200);
    expect(batch.parts[0]?.code).toBe(direct.status);
    expect((JSON.parse(batch.parts[0]!.body) as Echoed).headers['x-name']).toBe(
      direct.body.headers['x-name'],
    );
  });

  it('a MIME part header holding a byte that is not UTF-8 is read as the batch reads other text', async () => {
    const body = Buffer.concat([
      Buffer.from('--b\r\nContent-Type: application/http\r\nContent-ID: <caf'),
      Buffer.from([0xe9]),
      Buffer.from('>\r\n\r\nGET /echo?first=1 HTTP/1.1\r\n\r\n--b--\r\n'),
    ]);
    const reply = await postRaw(t, body, { 'content-type': 'multipart/mixed; boundary=b' });
    // It was a 500 (a TypeError from the part's headers: U+FFFD is no header byte). A batch the
    // reader cannot read is the client's error: a 400 that says so.
    expect(reply.status).toBe(400);
    expect(reply.body.toString('utf8')).toMatch(/a part's headers cannot be read/);
  });
});
