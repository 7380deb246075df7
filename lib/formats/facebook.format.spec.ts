import { BatchLimitExceededException } from '../batch.exceptions.js';
import type { BatchEntry, BatchResult } from '../interfaces/batch-operation.interface.js';
import { decodeFacebook, isFacebookForm } from './facebook.format.js';
import type { DecodedBatch } from './batch-format.interface.js';
import { problemsOf } from '../../test/utils/invalid-batch.js';

const parse = (json: string): unknown => JSON.parse(json);

const result = (code: number, body?: unknown): BatchResult => ({
  method: 'GET',
  url: '/x',
  code,
  headers: { 'content-type': 'application/json', 'set-cookie': ['a=1', 'b=2'] },
  ...(body === undefined ? {} : { body }),
});

describe('decodeFacebook', () => {
  it('maps relative_url, headers in each spelling, depends_on, form bodies onto operations', () => {
    const { operations, format } = decodeFacebook(
      {
        batch: [
          { method: 'POST', relative_url: 'items', name: 'a', body: 'name=x' },
          {
            relative_url: '/items/{result=a:$.id}',
            depends_on: 'a',
            headers: ['X-One: 1', { name: 'X-Two', value: '2' }],
          },
        ],
      },
      50,
      parse,
    );
    expect(format).toBe('facebook');
    expect(operations).toEqual([
      {
        method: 'POST',
        url: '/items',
        name: 'a',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'name=x',
      },
      {
        method: 'GET',
        url: '/items/{result=a:$.id}',
        dependsOn: ['a'],
        headers: { 'x-one': '1', 'x-two': '2' },
      },
    ]);
  });

  it('takes the batch parameter as a JSON string, parsed by the given rules', () => {
    const { operations } = decodeFacebook(
      { batch: JSON.stringify([{ method: 'GET', relative_url: 'me' }]) },
      50,
      parse,
    );
    expect(operations.map((operation) => operation.url)).toEqual(['/me']);
  });

  it('reports every problem at once, each by its path', () => {
    expect(
      problemsOf(() =>
        decodeFacebook(
          {
            batch: [
              { relative_url: 'a', headers: ['no colon'] },
              { relative_url: 'b', headers: [{ value: 'nameless' }] },
            ],
          },
          50,
          parse,
        ),
      ),
    ).toEqual([
      'batch.0.headers.0 must be "Name: value" or { "name", "value" }',
      'batch.1.headers.0 must be "Name: value" or { "name", "value" }',
    ]);
    expect(problemsOf(() => decodeFacebook({ batch: {} }, 50, parse))).toEqual([
      'batch must be a JSON array of operations',
    ]);
  });

  it('refuses more operations than the limit', () => {
    const batch = [{ relative_url: 'a' }, { relative_url: 'b' }, { relative_url: 'c' }];
    expect(() => decodeFacebook({ batch }, 2, parse)).toThrow(BatchLimitExceededException);
  });
});

describe('the Facebook reply', () => {
  const decode = (includeHeaders?: unknown) =>
    decodeFacebook(
      {
        batch: [
          { relative_url: 'a', name: 'a' },
          { relative_url: 'b', name: 'b', omit_response_on_success: false },
          { relative_url: 'c?x={result=a:$.id}', depends_on: 'b' },
        ],
        includeHeaders,
      },
      50,
      parse,
    );

  it('gives a textual body the library carried in base64 as its text, a binary one in base64', () => {
    // Facebook's format has no body encoding: its clients read `body` as the response text.
    const carried = (type: string, bytes: Buffer): BatchResult => ({
      method: 'GET',
      url: '/x',
      code: 200,
      headers: { 'content-type': type },
      body: bytes.toString('base64'),
      bodyEncoding: 'base64',
    });
    const nul = Buffer.from('a\u0000\u0001b');
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0xff]);
    const body = replyOf(decode(), [
      carried('application/json', nul),
      carried('text/csv; charset=utf-8', nul),
      carried('text/plain', png),
      carried('image/png', png),
    ]);
    expect((body as { body: string }[]).map((entry) => entry.body)).toEqual([
      'a\u0000\u0001b',
      'a\u0000\u0001b',
      png.toString('base64'),
      png.toString('base64'),
    ]);
  });

  it('is the bare array, bodies as strings, headers as a list of canonical names', () => {
    const batch = decode();
    const body = replyOf(batch, [null, result(200, { id: 1 }), result(404, 'gone')]);
    expect(body).toEqual([
      null,
      {
        code: 200,
        headers: [
          { name: 'Content-Type', value: 'application/json' },
          { name: 'Set-Cookie', value: 'a=1' },
          { name: 'Set-Cookie', value: 'b=2' },
        ],
        body: '{"id":1}',
      },
      expect.objectContaining({ code: 404, body: 'gone' }),
    ]);
  });

  it('drops every header with include_headers false, as a boolean or a form string', () => {
    for (const off of [false, 'false']) {
      const body = replyOf(decode(off), [result(500), result(500), result(500)]);
      expect((body as { headers?: unknown }[]).every((entry) => entry.headers === undefined)).toBe(
        true,
      );
    }
  });

  it('omits a depended-on success, from the plan: unless it says false, and never a failure', () => {
    const batch = decode();
    // a is referenced by c, b is named in c's depends_on; c waits for both.
    batch.planned?.([[2], [2], []]);
    const codes = (entries: BatchEntry[]) =>
      (replyOf(batch, entries) as ({ code: number } | null)[]).map((entry) => entry?.code ?? null);
    expect(codes([result(200), result(200), result(200)])).toEqual([null, 200, 200]);
    expect(codes([result(500), result(200), result(424)])).toEqual([500, 200, 424]);
  });

  it('omits nothing it was not told is depended on', () => {
    const body = replyOf(decode(), [result(200), result(200), result(200)]);
    expect((body as ({ code: number } | null)[]).map((entry) => entry?.code)).toEqual([
      200, 200, 200,
    ]);
  });
});

describe('isFacebookForm', () => {
  it('is a urlencoded body with a batch field, and never JSON', () => {
    expect(isFacebookForm(Buffer.from('batch=%5B%5D&access_token=x'))).toBe(true);
    expect(isFacebookForm(Buffer.from('other=1'))).toBe(false);
    expect(isFacebookForm(Buffer.from('{"a":"&batch=1"}'))).toBe(false);
    expect(isFacebookForm(Buffer.from('  ["&batch=1"]'))).toBe(false);
  });
});

/** The reply `batch` encodes for `entries`, as the client parses it. */
function replyOf(batch: DecodedBatch, entries: BatchEntry[]): unknown {
  const reply = batch.encode(entries);
  if (reply.kind !== 'json') throw new Error(`not a JSON reply: ${reply.kind}`);
  return JSON.parse(reply.text) as unknown;
}
