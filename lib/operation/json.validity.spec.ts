import { isJsonText } from './json.validity.js';

/** What JSON.parse says of the text. */
function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** A small deterministic generator, so a failure names a text that can be run again. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const VALID = [
  '{"id":42,"name":"widget","price":9.99,"after":null}',
  ' [1, -0, 0.5, -1e+5, 2E-3, 1e9, true, false, null, "", {}, []] \n',
  '{"a":{"b":[{"c":"\\u00e9\\n\\t\\"\\\\\\/\\b\\f\\r"}]},"":0}',
  '"just a string"',
  '0',
  '-12.5e3',
  '\t\r\n{ "k" : [ ] , "l" : { } }\t',
  '"é€𝄞 \\ud800"',
  '['.repeat(5000) + ']'.repeat(5000),
];

const INVALID = [
  '',
  ' ',
  '{',
  '}',
  '[1,]',
  '{"a":1,}',
  '{"a" 1}',
  '{a:1}',
  "{'a':1}",
  '[01]',
  '[1.]',
  '[.5]',
  '[1e]',
  '[+1]',
  '[-]',
  '["\\x"]',
  '["\\u12g4"]',
  '["tab\there"]',
  '[tru]',
  '[nul]',
  '[fals]',
  '[falze]',
  '[nulL]',
  '[trUe]',
  '[1] [2]',
  '{"a":1}}',
  '[1}',
  '{"a":1]',
  '[NaN]',
  '[Infinity]',
  '\u00a0[]',
  '"unterminated',
  '['.repeat(5000) + ']'.repeat(4999),
];

describe('isJsonText', () => {
  it.each(VALID.map((text) => [text.slice(0, 40), text]))(
    'accepts %j as JSON.parse does',
    (_, text) => {
      expect(parses(text)).toBe(true);
      expect(isJsonText(text)).toBe(true);
    },
  );

  it.each(INVALID.map((text) => [text.slice(0, 40), text]))(
    'refuses %j as JSON.parse does',
    (_, text) => {
      expect(parses(text)).toBe(false);
      expect(isJsonText(text)).toBe(false);
    },
  );

  it('tells objects from arrays at any depth, and again after a deep text', () => {
    const deep = (levels: number) => '{"a":['.repeat(levels) + '1' + ']}'.repeat(levels);
    const texts = [
      deep(40),
      deep(3000),
      deep(3000).replace(/\]\}$/, '}]'),
      deep(3000).slice(0, -1),
      deep(3000) + ']',
      '[{"a":[{"b":1}]},[{}],{"c":[[]]}]',
      '[{"a":[{"b":1}]},[{}],{"c":[[]}]',
      deep(2),
    ];
    for (const text of texts)
      expect([text.length, isJsonText(text)]).toEqual([text.length, parses(text)]);
  });

  it('agrees with JSON.parse on valid texts broken at random', () => {
    const next = random(32);
    const alphabet = '{}[],:"\\ \n\t\r-+.0123456789eEtrufalsn/bu\u0001aé';
    const disagreements: string[] = [];
    for (let round = 0; round < 20000; round++) {
      const base = VALID[Math.floor(next() * (VALID.length - 1))] as string;
      let text = base;
      const edits = 1 + Math.floor(next() * 3);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(next() * (text.length + 1));
        const what = next();
        const char = alphabet[Math.floor(next() * alphabet.length)] as string;
        if (what < 0.33) text = text.slice(0, at) + char + text.slice(at);
        else if (what < 0.66) text = text.slice(0, at) + text.slice(at + 1);
        else text = text.slice(0, at) + char + text.slice(at + 1);
      }
      if (isJsonText(text) !== parses(text)) disagreements.push(text);
    }
    expect(disagreements).toEqual([]);
  });
});
