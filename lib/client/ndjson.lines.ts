/**
 * The JSON values of an NDJSON body, one per line, as they arrive. Reads only as fast as the
 * consumer pulls, so a slow consumer slows the server down instead of filling memory; leaving
 * the loop early cancels the body, which closes the connection.
 * @param read told of each value with the line it was read from, before it is yielded.
 */
export async function* ndjsonLines(
  body: ReadableStream<Uint8Array>,
  read?: (value: unknown, line: string) => void,
): AsyncGenerator {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffered += value;
      let newline;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (line) yield parsed(line, read);
      }
    }
    if (buffered.trim()) yield parsed(buffered, read);
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

function parsed(line: string, read?: (value: unknown, line: string) => void): unknown {
  const value = JSON.parse(line) as unknown;
  read?.(value, line);
  return value;
}
