import type request from 'supertest';

/** One batch entry as the native format writes it. */
export interface GraphqlEntry {
  code: number;
  headers: Record<string, string>;
  body?: unknown;
}

/** A GraphQL request as a client sends it: POST with a body, or GET with the query in the url. */
export interface GraphqlOp {
  method: 'GET' | 'POST';
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
}

/** Headers that differ between any two responses (and cookies, compared apart). */
const VOLATILE = new Set(['date', 'connection', 'keep-alive', 'content-length', 'set-cookie']);

export function comparableHeaders(headers: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !VOLATILE.has(name)));
}

/** The same request sent directly, then as the only operation of a batch. */
export async function directAndBatched(
  http: ReturnType<typeof request>,
  op: GraphqlOp,
): Promise<{ direct: request.Response; entry: GraphqlEntry; batch: request.Response }> {
  let direct = op.method === 'GET' ? http.get(op.url) : http.post(op.url);
  direct = direct.set(op.headers ?? {});
  if (op.body !== undefined) direct = direct.send(op.body as object);
  const directResponse = await direct;
  const batch = await http.post('/batch').send({ data: [op] });
  expect(batch.status).toBe(200);
  return { direct: directResponse, entry: firstEntry(batch), batch };
}

/** The first entry of a native batch reply. */
export function firstEntry(batch: request.Response): GraphqlEntry {
  return (batch.body as { data: GraphqlEntry[] }).data[0]!;
}

/** The entry answers as the direct response did: status, body (JSON read as JSON), headers. */
export function expectSameAnswer(direct: request.Response, entry: GraphqlEntry): void {
  expect(entry.code).toBe(direct.status);
  const json = direct.type.includes('json');
  const directBody = json ? direct.body : direct.text;
  const entryBody = typeof entry.body === 'string' && json ? JSON.parse(entry.body) : entry.body;
  expect(entryBody).toEqual(directBody);
  expect(comparableHeaders(entry.headers)).toEqual(comparableHeaders(direct.headers));
}
