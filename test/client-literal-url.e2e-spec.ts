/**
 * client.fetch and text holding `{result=` in a url or behind a JSON escape. The client turned
 * every `%7Bresult=...%7D` of a url back into `{result=...}` (meant for its own references, which
 * URL parsing escapes), whoever wrote it and whatever its case, percent-decoding what is inside;
 * and it parsed a JSON body holding one of its own references, so a `{result=` written with a
 * JSON escape (`\u007b`) became a reference. Directly, the app gets the text.
 */
import { All, Controller, Module, Param, Query, Req } from '@nestjs/common';
import { BatchClient } from 'nestjs-batch/client';
import { forEachPlatform } from './utils/platforms.js';
import { endpointOf, useTestApp } from './utils/test-app.js';

interface Seen {
  title: string;
  url: string;
  query: Record<string, unknown>;
  body: unknown;
}

@Controller('notes')
class NotesController {
  @All(':title')
  note(
    @Param('title') title: string,
    @Query() query: Record<string, unknown>,
    @Req() req: { url: string; originalUrl?: string; body?: unknown },
  ): Seen {
    return { title, url: req.originalUrl ?? req.url, query, body: req.body ?? null };
  }
}

@Module({ controllers: [NotesController] })
class NotesModule {}

interface Answer {
  status: number;
  body: unknown;
}

forEachPlatform(() => {
  const t = useTestApp({ imports: [NotesModule], strictValidation: false });
  const read = async (response: Response): Promise<Answer> => ({
    status: response.status,
    body: await response.json(),
  });
  const direct = async (path: string, init?: RequestInit): Promise<Answer> =>
    read(await fetch(endpointOf(t, path), init));
  /** The call, batched with another one beside it: both must answer as directly. */
  const batched = async (
    path: string,
    init?: RequestInit,
  ): Promise<PromiseSettledResult<Answer>[]> => {
    const client = new BatchClient({ endpoint: endpointOf(t) });
    return Promise.allSettled([
      client.fetch(path, init).then(read),
      client.fetch('/notes/beside').then(read),
    ]);
  };
  const expectSame = async (path: string, init?: RequestInit): Promise<void> => {
    const [call, beside] = await batched(path, init);
    expect(call).toEqual({ status: 'fulfilled', value: await direct(path, init) });
    expect(beside).toMatchObject({ status: 'fulfilled', value: { status: 200 } });
  };

  it('a path segment "{result=50%25}" (a percent sign in a note) reaches the app; the batch is not refused', async () => {
    // Directly: 200, title "{result=50%}". Batched: the client sends `%7Bresult=50%}`, and the
    // server refuses the whole batch (malformed percent-encoding): both calls reject.
    await expectSame('/notes/{result=50%25}');
  });

  it('a path segment "{result=a b}" reaches the app; the batch is not refused', async () => {
    // Batched: `%7Bresult=a b}`, a space in the url: the whole batch is refused.
    await expectSame('/notes/{result=a b}');
  });

  it('a path segment holding an encoded slash "{result=a%2Fb}" routes as directly', async () => {
    // Directly: 200, title "{result=a/b}". Batched: `/notes/%7Bresult=a/b}`, a 404.
    await expectSame('/notes/{result=a%2Fb}');
  });

  it('upper case "{RESULT=x}" in a path reaches the app as written', async () => {
    // Batched: the app's title is "{result=x}", its url `/notes/%7Bresult=x}`.
    await expectSame('/notes/{RESULT=x}');
  });

  it('a lower-case "%7bresult=x%7d" in a path reaches the app as written', async () => {
    // Batched: the app's url is `/notes/%7Bresult=x}` (same title).
    await expectSame('/notes/%7bresult=x%7d');
  });

  it('a query value "%7Bresult=a%26b%7D" keeps its value', async () => {
    // Directly: q is "{result=a&b}". Batched: `?q=%7Bresult=a&b}`: q is "{result=a", and a key "b}".
    await expectSame('/notes/search?q=%7Bresult=a%26b%7D');
  });

  it('a JSON body with a \\u007b-escaped "{result=" beside the client\'s own reference reaches the app', async () => {
    const client = new BatchClient({ endpoint: endpointOf(t) });
    const author = client.fetch('/notes/ada');
    // JSON text as a page may hold it (JSON.stringify of a user's note, then escaped by a sanitiser).
    const text = '{"author":"AUTHOR","note":"\\u007bresult=create:$.id}"}';
    const init = (name: string): RequestInit => ({
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: text.replace('AUTHOR', name),
    });
    const [note, beside] = await Promise.allSettled([
      client.fetch('/notes/note', init(author.ref('$.title'))).then(read),
      client.fetch('/notes/beside').then(read),
    ]);
    // Directly: 200, body { author: 'ada', note: '{result=create:$.id}' }. Batched: the whole
    // batch is refused, "operation 1 refers to unknown operation \"create\"".
    expect(note).toEqual({ status: 'fulfilled', value: await direct('/notes/note', init('ada')) });
    expect(beside).toMatchObject({ status: 'fulfilled', value: { status: 200 } });
    await author;
  });
});
