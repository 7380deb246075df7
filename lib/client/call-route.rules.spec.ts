import { asksForEventStream, BATCH_ENVELOPE_BYTES, operationBytes } from './call-route.rules.js';

describe('how a call travels', () => {
  it('counts the UTF-8 bytes an operation takes in the batch, the name it is given included', () => {
    const operation = { method: 'POST' as const, url: '/n', body: 'é € 😀 "q" \n' };
    expect(operationBytes(operation)).toBe(Buffer.byteLength(JSON.stringify(operation)));
    expect(operationBytes(operation, '~abc.1')).toBe(
      Buffer.byteLength(JSON.stringify({ ...operation, name: '~abc.1' })),
    );
    expect(BATCH_ENVELOPE_BYTES).toBe(Buffer.byteLength(JSON.stringify({ data: [] })));
  });

  it('tells a call that asks for server-sent events', () => {
    expect(asksForEventStream('text/event-stream')).toBe(true);
    expect(asksForEventStream('application/json, Text/Event-Stream;q=0.9')).toBe(true);
    expect(asksForEventStream('text/event-streamer')).toBe(false);
    expect(asksForEventStream(null)).toBe(false);
  });
});
