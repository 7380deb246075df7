import { Subject } from 'rxjs';
import type { Readable } from 'node:stream';
import type {
  BatchOperation,
  BatchOutcome,
  BatchResult,
} from '../interfaces/batch-operation.interface.js';
import { streamNdjson } from './ndjson.encoder.js';

const operations: BatchOperation[] = [0, 1, 2].map((i) => ({ method: 'GET', url: `/item/${i}` }));
const result = (i: number): BatchResult => ({
  method: 'GET',
  url: `/item/${i}`,
  code: 200,
  headers: { 'content-type': 'application/json; charset=utf-8' },
  body: { id: i },
});

/** The stream of a run the test drives, and the chunks it gave so far. */
function streamed(): { outcomes: Subject<BatchOutcome>; stream: Readable; chunks: string[] } {
  const outcomes = new Subject<BatchOutcome>();
  const stream = streamNdjson(operations, () => outcomes);
  const chunks: string[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  return { outcomes, stream, chunks };
}

/** Lets the event loop turn (the stream's own scheduling runs). */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('streamNdjson', () => {
  it('writes the lines of operations that finish in the same turn as one chunk', async () => {
    const { outcomes, chunks } = streamed();
    outcomes.next({ index: 1, result: result(1) });
    outcomes.next({ index: 0, result: result(0) });
    await turn();
    await turn();
    expect(chunks).toHaveLength(1);
    expect(
      chunks[0]
        ?.trimEnd()
        .split('\n')
        .map((line) => (JSON.parse(line) as { index: number }).index),
    ).toEqual([1, 0]);
  });

  it('writes a line in the turn its operation finished, before the run ends', async () => {
    const { outcomes, chunks } = streamed();
    outcomes.next({ index: 2, result: result(2) });
    await turn();
    await turn();
    expect(chunks.map((chunk) => JSON.parse(chunk) as unknown)).toEqual([
      { index: 2, ...result(2) },
    ]);
    outcomes.next({ index: 0, result: result(0) });
    await turn();
    await turn();
    expect(chunks).toHaveLength(2);
  });

  it('ends with the lines still held, then a null line for each unfinished operation', async () => {
    const { outcomes, stream, chunks } = streamed();
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
