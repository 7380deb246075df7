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
  ])('refuses %s', (text, message) => {
    expect(() => parseTemplate(text)).toThrow(ReferenceSyntaxError);
    expect(() => parseTemplate(text)).toThrow(message);
  });
});
