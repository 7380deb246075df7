import { ndjsonLines } from './ndjson.lines.js';

function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
}

async function collect(chunks: Uint8Array[]): Promise<unknown[]> {
  const values: unknown[] = [];
  for await (const value of ndjsonLines(streamOf(chunks))) values.push(value);
  return values;
}

describe('ndjsonLines', () => {
  const text = '{"index":1,"body":"é€😀"}\n\n{"index":0,"entry":null}\n{"index":2}';
  const bytes = new TextEncoder().encode(text);

  it('parses whole lines, skips blank ones, and takes a last line without a newline', async () => {
    expect(await collect([bytes])).toEqual([
      { index: 1, body: 'é€😀' },
      { index: 0, entry: null },
      { index: 2 },
    ]);
  });

  it('gives the same values however the bytes are cut, inside lines and inside characters', async () => {
    const whole = await collect([bytes]);
    for (let size = 1; size <= 7; size++) {
      const chunks: Uint8Array[] = [];
      for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.slice(at, at + size));
      expect(await collect(chunks)).toEqual(whole);
    }
  });

  it('cancels the body when the consumer leaves early', async () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"a":1}\n{"a":2}\n'));
      },
      cancel() {
        cancelled = true;
      },
    });
    for await (const value of ndjsonLines(body)) {
      expect(value).toEqual({ a: 1 });
      break;
    }
    expect(cancelled).toBe(true);
  });

  it('throws on a line that is not JSON', async () => {
    await expect(collect([new TextEncoder().encode('{"a":1}\nnope\n')])).rejects.toThrow(
      SyntaxError,
    );
  });
});
