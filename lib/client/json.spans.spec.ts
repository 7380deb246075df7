import { bodyOf, entryBodiesOf } from './json.spans.js';

describe('json.spans', () => {
  it('finds each entry body of a whole reply as written, nulls and bodiless entries included', () => {
    const bodies = [
      '{"id":12345678901234567890,  "x":1.50, "d":1, "d":2}',
      '"a \\" } ] string"',
      '[1, {"body": 2}, "]"]',
      '1e20',
      'null',
    ];
    const reply = `{ "data" : [ ${bodies
      .map((body, i) => `{"code":200,"headers":{"body":"no"},"url":"/${i}","body": ${body} }`)
      .join(' , ')}, null, {"code":204,"headers":{}} ] }`;
    expect(JSON.parse(reply)).toBeTruthy();
    expect(entryBodiesOf(reply)).toEqual([...bodies, undefined, undefined]);
  });

  it('finds the body of one NDJSON line', () => {
    const line =
      '{"index":3,"code":200,"headers":{"content-type":"application/json"},"body":{"n":1.0}}';
    expect(bodyOf(line, 0)).toBe('{"n":1.0}');
  });

  it('gives nothing for a reply without data', () => {
    expect(entryBodiesOf('{"error":"x"}')).toEqual([]);
  });
});
