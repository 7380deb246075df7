import { isUtf8 } from 'node:buffer';
import { jsonTextBytes } from '../validation/json-string.size.js';
import { DecodedChunks } from './response-body.decoder.js';

/** A small deterministic generator, so a failure names its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

/** Bytes mixing ASCII, every UTF-8 length, escapes and a few invalid bytes (when `valid` is not). */
function bytesOf(next: () => number, valid: boolean): Buffer {
  const parts: Buffer[] = [];
  const pieces = ['a', '"', '\\', '\n', '\u0001', 'é', '€', '😀', '\u2028', '\u{10ffff}', '\ud7ff'];
  const invalid = [
    [0xc0],
    [0xff],
    [0x80],
    [0xed, 0xa0, 0x80],
    [0xf4, 0x90, 0x80, 0x80],
    [0xe2, 0x82],
  ];
  const count = 1 + Math.floor(next() * 40);
  for (let i = 0; i < count; i++) {
    if (!valid && next() < 0.1) {
      parts.push(Buffer.from(invalid[Math.floor(next() * invalid.length)] as number[]));
    } else parts.push(Buffer.from(pieces[Math.floor(next() * pieces.length)] as string));
  }
  return Buffer.concat(parts);
}

function chunked(bytes: Buffer, next: () => number): DecodedChunks {
  const chunks = new DecodedChunks();
  let at = 0;
  while (at < bytes.length) {
    const size = 1 + Math.floor(next() * 5);
    chunks.add(bytes.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

describe('DecodedChunks, split anywhere, agrees with the body whole', () => {
  it('for 400 bodies, valid UTF-8 or not, in chunks of 1 to 5 bytes', () => {
    for (let seed = 1; seed <= 400; seed++) {
      const next = random(seed);
      const bytes = bytesOf(next, seed % 2 === 0);
      const chunks = chunked(bytes, next);
      const whole = isUtf8(bytes);
      const seen = {
        seed,
        utf8: chunks.isUtf8(),
        count: whole ? chunks.jsonTextBytes(Infinity) : undefined,
        base64: chunks.base64(),
        text: chunks.utf8(),
      };
      expect(seen).toEqual({
        seed,
        utf8: whole,
        count: whole ? jsonTextBytes(bytes, Infinity) : undefined,
        base64: bytes.toString('base64'),
        text: bytes.toString('utf8'),
      });
    }
  });

  it('every split of each sequence, byte by byte', () => {
    for (const text of ['é', '€', '😀', 'a😀b', '\u2028"']) {
      const bytes = Buffer.from(text);
      for (let cut = 1; cut < bytes.length; cut++) {
        const chunks = new DecodedChunks();
        chunks.add(bytes.subarray(0, cut));
        chunks.add(bytes.subarray(cut));
        expect([text, cut, chunks.isUtf8()]).toEqual([text, cut, true]);
      }
      const single = new DecodedChunks();
      for (const byte of bytes) single.add(Buffer.of(byte));
      expect(single.isUtf8()).toBe(true);
    }
  });
});
