import { jest } from '@jest/globals';
import { Subject } from 'rxjs';
import type { Readable } from 'node:stream';
import type {
  BatchOperation,
  BatchOutcome,
  BatchResult,
} from '../interfaces/batch-operation.interface.js';
import { NDJSON_LINE_HOLD_MS, streamNdjson } from './ndjson.encoder.js';

const operations: BatchOperation[] = [0, 1, 2].map((i) => ({ method: 'GET', url: `/item/${i}` }));
const result = (i: number, body: unknown = { id: i }): BatchResult => ({
  method: 'GET',
  url: `/item/${i}`,
  code: 200,
  headers: { 'content-type': 'application/json; charset=utf-8' },
  body,
});

/** The stream of a run the test drives, flowing, and the chunks it gave so far. */
async function streamed(): Promise<{
  outcomes: Subject<BatchOutcome>;
  stream: Readable;
  chunks: string[];
}> {
  const outcomes = new Subject<BatchOutcome>();
  const stream = streamNdjson(operations, () => outcomes);
  const chunks: string[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  await new Promise((resolve) => process.nextTick(resolve)); // flowing from now on
  return { outcomes, stream, chunks };
}

const indicesOf = (chunk: string | undefined): number[] =>
  (chunk ?? '')
    .trimEnd()
    .split('\n')
    .map((line) => (JSON.parse(line) as { index: number }).index);

describe('streamNdjson', () => {
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask'] }));
  afterEach(() => jest.useRealTimers());

  it('writes the lines of operations that finish close together as one chunk', async () => {
    const { outcomes, chunks } = await streamed();
    outcomes.next({ index: 1, result: result(1) });
    jest.advanceTimersByTime(NDJSON_LINE_HOLD_MS - 1);
    outcomes.next({ index: 0, result: result(0) });
    expect(chunks).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(chunks).toHaveLength(1);
    expect(indicesOf(chunks[0])).toEqual([1, 0]);
  });

  it('writes a line once the hold has passed, while other operations still run', async () => {
    const { outcomes, chunks } = await streamed();
    outcomes.next({ index: 2, result: result(2) });
    jest.advanceTimersByTime(NDJSON_LINE_HOLD_MS);
    expect(chunks.map((chunk) => JSON.parse(chunk) as unknown)).toEqual([
      { index: 2, ...result(2) },
    ]);
    outcomes.next({ index: 0, result: result(0) });
    jest.advanceTimersByTime(NDJSON_LINE_HOLD_MS);
    expect(chunks.map(indicesOf)).toEqual([[2], [0]]);
  });

  it('writes a large line at once', async () => {
    const { outcomes, chunks } = await streamed();
    outcomes.next({ index: 0, result: result(0, 'x'.repeat(64 * 1024)) });
    expect(chunks.map(indicesOf)).toEqual([[0]]);
  });

  it('ends with the lines still held, then a null line for each unfinished operation', async () => {
    const { outcomes, stream, chunks } = await streamed();
    const ended = new Promise((resolve) => stream.on('end', resolve));
    outcomes.next({ index: 1, result: result(1) });
    outcomes.complete();
    await ended;
    expect(
      chunks
        .join('')
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as unknown),
    ).toEqual([
      { index: 1, ...result(1) },
      { index: 0, entry: null },
      { index: 2, entry: null },
    ]);
  });
});
