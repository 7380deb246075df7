import {
  clientToken,
  escapeLiteralUrl,
  holdsLiteral,
  literalBodyOf,
  withBodyBytes,
  writtenByAClient,
} from './literal-text.escape.js';

describe('literal text holding {result=', () => {
  const token = clientToken(globalThis);
  const own = `{result=~${token}.1:$.id}`;

  it('tells a reference a client wrote from text that looks like one', () => {
    expect(writtenByAClient(`~${token}.1`)).toBe(true);
    expect(writtenByAClient('~1.1')).toBe(false);
    expect(clientToken({})).not.toBe(token);
    expect(holdsLiteral(`a ${own} b`, writtenByAClient)).toBe(false);
    expect(holdsLiteral(`a ${own} {result=~1.1:$.token}`, writtenByAClient)).toBe(true);
    expect(holdsLiteral('{result=create:$.id}', writtenByAClient)).toBe(true);
  });

  it('percent-encodes the brace of text in a url, and keeps a reference a client wrote', () => {
    expect(escapeLiteralUrl(`/a/${own}?q={result=x}`, writtenByAClient)).toBe(
      `/a/${own}?q=%7Bresult=x}`,
    );
    expect(escapeLiteralUrl('/a?q={result=x}&r={result=y}', writtenByAClient)).toBe(
      '/a?q=%7Bresult=x}&r=%7Bresult=y}',
    );
    expect(escapeLiteralUrl(`/a/${own}`, writtenByAClient)).toBe(`/a/${own}`);
  });

  it('sends a body of text as its bytes, and one with references too once they are rendered', () => {
    expect(literalBodyOf('say {result=yes}', writtenByAClient)).toBe('bytes');
    expect(literalBodyOf(`{"a":"${own}","b":"{result=no}"}`, writtenByAClient)).toBe('rendered');
    expect(literalBodyOf(`{"a":"${own}"}`, writtenByAClient)).toBe('as-is');
    expect(literalBodyOf({ a: '{result=no}' }, writtenByAClient)).toBe('as-is');
    const sent = withBodyBytes({ method: 'POST', url: '/n', body: 'é {result=yes}' });
    expect(sent).toMatchObject({ bodyEncoding: 'base64' });
    expect(Buffer.from(sent.body as string, 'base64').toString('utf8')).toBe('é {result=yes}');
  });
});
