import { parseTemplate, ReferenceSyntaxError, type Reference } from './reference.parser.js';

const refs = (text: string): Reference[] =>
  (parseTemplate(text) ?? []).filter((part): part is Reference => typeof part !== 'string');

describe('parseTemplate', () => {
  it('returns undefined for text without references, so it is used untouched', () => {
    expect(parseTemplate('/items/7?x={y}')).toBeUndefined();
  });

  it('cuts literals and references in order', () => {
    const parts = parseTemplate('/a/{result=one:$.id}/b/{result=two:$.items[0].id}');
    expect(parts?.map((part) => (typeof part === 'string' ? part : `<${part.name}>`))).toEqual([
      '/a/',
      '<one>',
      '/b/',
      '<two>',
    ]);
  });

  it('tells singular paths from paths that may match many values', () => {
    const [a, b, c, d] = refs(
      '{result=x:$.a.b}{result=x:$.items.*.id}{result=x:$..id}{result=x:$.a[0]}',
    );
    expect([a?.singular, b?.singular, c?.singular, d?.singular]).toEqual([
      true,
      false,
      false,
      true,
    ]);
  });

  it("reads @status and @header.NAME as parts of the response, the header's name in lower case", () => {
    const [status, etag, location] = refs(
      '{result=x:@status}{result=x:@header.ETag}{result=x:@location}',
    );
    expect(status).toMatchObject({ name: 'x', source: 'status', singular: true });
    expect(status?.header).toBeUndefined();
    expect(etag).toMatchObject({
      source: 'header',
      header: 'etag',
      text: '{result=x:@header.ETag}',
    });
    expect(location).toMatchObject({ source: 'location' });
  });

  it('reads a closing brace inside a quoted name as part of the path', () => {
    const [reference] = refs("{result=x:$['a}b']}");
    expect(reference?.text).toBe("{result=x:$['a}b']}");
    expect(reference?.query.query({ 'a}b': 5 }).values()).toEqual([5]);
  });

  it.each([
    ['{result=:$.id}', /not a reference of the form/],
    ['{result=a b:$.id}', /not a reference of the form/],
    ['{result=x}', /not a reference of the form/],
    ['{result=x:$.id', /no closing/],
    ['{result=x:$.[}', /no closing/],
    ['{result=x:$.]}', /invalid JSONPath/],
    ['{result=x:id}', /invalid JSONPath/],
    ['{result=x:$.items[?@.id > 1]}', /filters are not allowed/],
    ["{result=x:$[?match(@.a, '(a+)+$')]}", /filters are not allowed/],
    ['{result=x:@etag}', /names no part of a response: @status, @location and @header.NAME/],
    ['{result=x:@header.}', /names no part of a response/],
    ['{result=x:@header.a b}', /names no part of a response/],
    ['{result=x:@header.Set-Cookie}', /reads set-cookie; cookies reach later operations/],
  ])('refuses %s', (text, message) => {
    expect(() => parseTemplate(text)).toThrow(ReferenceSyntaxError);
    expect(() => parseTemplate(text)).toThrow(message);
  });
});
