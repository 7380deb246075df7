import { jest } from '@jest/globals';
import type { BatchEntry, BatchResult } from '../interfaces/batch-operation.interface.js';
import type { DecodedBatch } from './batch-format.interface.js';
import { decodeGraph } from './graph.format.js';
import { JsonTextResult } from '../operation/response-body.decoder.js';
import { problemsOf } from '../../test/utils/invalid-batch.js';

describe('decodeGraph', () => {
  it('maps ids onto names, dependsOn as given, and urls onto paths of this app', () => {
    const { operations, format } = decodeGraph(
      {
        requests: [
          { id: '1', method: 'GET', url: 'me' },
          { id: '2', method: 'GET', url: '/me/friends?limit=1', dependsOn: ['1'] },
        ],
      },
      20,
    );
    expect(format).toBe('graph');
    expect(operations).toEqual([
      { method: 'GET', url: '/me', name: '1', headers: {} },
      { method: 'GET', url: '/me/friends?limit=1', name: '2', dependsOn: ['1'], headers: {} },
    ]);
  });

  it('resolves a relative url against the batch url, the service root (OData JSON §19.1)', () => {
    const { operations } = decodeGraph(
      {
        requests: [
          { id: '0', method: 'POST', url: 'TodoItems', body: { Title: 'a' } },
          { id: '1', method: 'GET', url: 'TodoItems(3)?$select=Title' },
          { id: '2', method: 'GET', url: '/odata/TodoItems' },
          { id: '3', method: 'GET', url: '$0/Title' },
        ],
      },
      20,
      '/odata/$batch?entryHeaders=all',
    );
    expect(operations.map((operation) => operation.url)).toEqual([
      '/odata/TodoItems',
      '/odata/TodoItems(3)?$select=Title',
      '/odata/TodoItems',
      '/{result=0:@location}/Title',
    ]);
  });

  it('takes a JSON body as it is, and a base64 one as text or bytes by its Content-Type', () => {
    const { operations } = decodeGraph(
      {
        requests: [
          { id: 'j', method: 'POST', url: '/a', body: { x: 1 } },
          {
            id: 't',
            method: 'POST',
            url: '/a',
            headers: { 'Content-Type': 'text/plain' },
            body: Buffer.from('hello').toString('base64'),
          },
          {
            id: 'b',
            method: 'POST',
            url: '/a',
            headers: { 'Content-Type': 'image/png' },
            body: Buffer.from([1, 2, 3]).toString('base64'),
          },
        ],
      },
      20,
    );
    expect(operations.map((operation) => operation.body)).toEqual([
      { x: 1 },
      'hello',
      Buffer.from([1, 2, 3]),
    ]);
  });

  it('reports every problem at once: missing and repeated ids, a non-JSON body not in base64', () => {
    expect(
      problemsOf(() =>
        decodeGraph(
          {
            requests: [
              { method: 'GET', url: '/a' },
              { id: 'x', method: 'GET', url: '/a' },
              { id: 'x', method: 'GET', url: '/b' },
              {
                id: 'y',
                method: 'POST',
                url: '/c',
                headers: { 'content-type': 'text/plain' },
                body: { not: 'base64' },
              },
              {
                id: 'z',
                method: 'POST',
                url: '/c',
                headers: { 'content-type': 'application/octet-stream' },
                body: 'not base64!',
              },
            ],
          },
          20,
        ),
      ),
    ).toEqual([
      'requests.0.id must be a non-empty string',
      'requests.2.id "x" is not unique',
      'requests.3.body must be a base64 string: its Content-Type is not JSON',
      'requests.4.body must be base64 (A-Z a-z 0-9 + /, padded with =): its Content-Type is not JSON',
    ]);
    expect(problemsOf(() => decodeGraph({ requests: {} }, 20))).toEqual([
      'requests must be an array of requests',
    ]);
  });
});

describe('the Graph reply', () => {
  const batch = decodeGraph(
    {
      requests: [
        { id: 'a', method: 'GET', url: '/a' },
        { id: 'b', method: 'GET', url: '/b' },
        { id: 'c', method: 'GET', url: '/c' },
      ],
    },
    20,
  );
  const entry = (headers: BatchResult['headers'], body?: unknown): BatchResult => ({
    method: 'GET',
    url: '/',
    code: 200,
    headers,
    ...(body === undefined ? {} : { body }),
  });

  it('answers by id in request order: canonical header names, JSON as JSON, text as base64', () => {
    const body = replyOf(batch, [
      entry({ 'content-type': 'application/json', vary: ['a', 'b'] }, { ok: true }),
      entry({ 'content-type': 'text/plain' }, 'hi'),
      entry({}),
    ]);
    expect(body).toEqual({
      responses: [
        {
          id: 'a',
          status: 200,
          headers: { 'Content-Type': 'application/json', Vary: 'a, b' },
          body: { ok: true },
        },
        {
          id: 'b',
          status: 200,
          headers: { 'Content-Type': 'text/plain' },
          body: Buffer.from('hi').toString('base64'),
        },
        { id: 'c', status: 200, headers: {} },
      ],
    });
  });

  it("writes the app's JSON text as it came, without parsing it", () => {
    const parse = jest.spyOn(JSON, 'parse');
    let text: string;
    try {
      const json = (body: string): BatchResult =>
        new JsonTextResult('GET', '/', 200, { 'content-type': 'application/json' }, body);
      const reply = batch.encode([json('{"n":1.50}'), json('[ 1e400 ]'), entry({})]);
      if (reply.kind !== 'json') throw new Error(`not a JSON reply: ${reply.kind}`);
      text = reply.text;
      expect(parse).not.toHaveBeenCalled();
    } finally {
      parse.mockRestore();
    }
    expect(text).toContain('"body":{"n":1.50}');
    expect(text).toContain('"body":[ 1e400 ]');
  });

  it('has no empty entry: an operation cut off by the batch timeout is a 504 with a timeout error', () => {
    const body = replyOf(batch, [null, null, null]);
    const [first] = (body as { responses: { id: string; status: number; body: unknown }[] })
      .responses;
    expect(first).toMatchObject({ id: 'a', status: 504, body: { error: { code: 'timeout' } } });
  });
});

/** The reply `batch` encodes for `entries`, as the client parses it. */
function replyOf(batch: DecodedBatch, entries: BatchEntry[]): unknown {
  const reply = batch.encode(entries);
  if (reply.kind !== 'json') throw new Error(`not a JSON reply: ${reply.kind}`);
  return JSON.parse(reply.text) as unknown;
}
