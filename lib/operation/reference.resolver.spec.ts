import { BatchReferences } from './batch.references.js';
import { BATCH_OPTION_DEFAULTS } from '../batch.options.js';
import { compileJson } from '../plan/json.template.js';
import { parseTemplate } from '../plan/reference.parser.js';
import {
  renderJson,
  renderTemplate as render,
  UnmatchedReferenceError,
  type ReferenceLookup,
} from './reference.resolver.js';
import type { RenderBudget } from '../plan/render.limits.js';

const responses: Record<string, unknown> = {
  create: { id: 7, name: 'a b/c', tags: ['x', 'y'], nested: { deep: true }, none: null },
  list: { items: [{ id: 1 }, { id: 2 }, { id: 3 }] },
  empty: { items: [] },
  text: 'just text',
};
const names = Object.keys(responses);
const lookup = new BatchReferences(
  new Map(names.map((name, index) => [name, index])),
  names.map((name) => ({ method: 'GET', url: '/', code: 200, headers: {}, body: responses[name] })),
  BATCH_OPTION_DEFAULTS,
).lookup;
const unlimited: RenderBudget = { left: Infinity, spend: () => undefined };
const renderTemplate = (
  template: Parameters<typeof render>[0],
  lookup: ReferenceLookup,
  encode?: (text: string) => string,
) => render(template, lookup, unlimited, encode);

const template = (text: string) => {
  const parsed = parseTemplate(text);
  if (!parsed) throw new Error('no references');
  return parsed;
};

const body = (value: unknown): unknown => {
  const compiled = compileJson(value, []);
  return compiled ? renderJson(compiled, lookup, unlimited) : value;
};

describe('renderTemplate', () => {
  it('URL-encodes each value in a url', () => {
    expect(renderTemplate(template('/x/{result=create:$.name}'), lookup, encodeURIComponent)).toBe(
      '/x/a%20b%2Fc',
    );
  });

  it('joins several matches with commas, each encoded, the commas not', () => {
    expect(
      renderTemplate(template('/x?ids={result=list:$.items.*.id}'), lookup, encodeURIComponent),
    ).toBe('/x?ids=1,2,3');
  });

  it('writes non-string values as JSON text', () => {
    expect(
      renderTemplate(template('{result=create:$.nested} {result=create:$.none}'), lookup),
    ).toBe('{"deep":true} null');
  });

  it('refuses a reference that matches nothing', () => {
    expect(() => renderTemplate(template('/{result=list:$.missing}'), lookup)).toThrow(
      UnmatchedReferenceError,
    );
    expect(() => renderTemplate(template('/{result=empty:$.items.*}'), lookup)).toThrow(
      /matched nothing in the response of "empty"/,
    );
  });

  it('matches against a text body only at the root', () => {
    expect(renderTemplate(template('{result=text:$}'), lookup)).toBe('just text');
  });
});

describe('renderJson', () => {
  it('keeps the JSON type of a value when a string is exactly one reference', () => {
    expect(
      body({
        id: '{result=create:$.id}',
        deep: '{result=create:$.nested}',
        none: '{result=create:$.none}',
        tags: '{result=create:$.tags}',
      }),
    ).toEqual({ id: 7, deep: { deep: true }, none: null, tags: ['x', 'y'] });
  });

  it('gives an array for a path that may match many values, even one', () => {
    expect(
      body({ ids: '{result=list:$.items.*.id}', first: '{result=list:$.items[0:1].id}' }),
    ).toEqual({
      ids: [1, 2, 3],
      first: [1],
    });
  });

  it('interpolates references inside longer strings', () => {
    expect(body(['item {result=create:$.id} of {result=list:$.items.*.id}'])).toEqual([
      'item 7 of 1,2,3',
    ]);
  });

  it('keeps parts without references by identity', () => {
    const untouched = { a: [1, 2] };
    const rendered = body({ untouched, id: '{result=create:$.id}' }) as { untouched: unknown };
    expect(rendered.untouched).toBe(untouched);
    expect(compileJson({ a: 1, b: ['x'] }, [])).toBeUndefined();
  });

  it('keeps a "__proto__" key as a key and never touches a prototype', () => {
    const input = JSON.parse('{"__proto__": {"polluted": "{result=create:$.id}"}}') as object;
    const rendered = body(input) as Record<string, unknown>;
    expect(Object.getPrototypeOf(rendered)).toBe(Object.prototype);
    expect(Object.keys(rendered)).toEqual(['__proto__']);
    expect(JSON.stringify(rendered)).toBe('{"__proto__":{"polluted":7}}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('never reaches prototype members through a path', () => {
    for (const path of ['$.constructor', '$.__proto__', '$.toString', '$.id.constructor']) {
      expect(() => body({ x: `{result=create:${path}}` })).toThrow(UnmatchedReferenceError);
    }
  });
});
