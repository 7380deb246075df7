/**
 * The JSON values of an NDJSON body, one per line, as they arrive. Reads only as fast as the
 * consumer pulls, so a slow consumer slows the server down instead of filling memory; leaving
 * the loop early cancels the body, which closes the connection.
 */
export async function* ndjsonLines(body: ReadableStream<Uint8Array>): AsyncGenerator {
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
        if (line) yield JSON.parse(line) as unknown;
      }
    }
    if (buffered.trim()) yield JSON.parse(buffered) as unknown;
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}
