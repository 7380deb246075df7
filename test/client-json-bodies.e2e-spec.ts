/**
 * A body the app labels JSON that does not parse as JSON: Angular's XSSI prefix `)]}',`, a
 * byte order mark, text sent as JSON by mistake. The entry carried it as a JSON string, which
 * `client.fetch` cannot tell from a JSON string the app sent: `text()` gave it quoted, `json()`
 * gave the string where fetch's throws (or, past a BOM, parses). Carried as its bytes, it reads
 * as fetch reads it.
 */
import { Controller, Get, Module, Param, Res } from '@nestjs/common';
import { BatchClient } from 'nestjs-batch/client';
import { takeOverResponse } from './utils/node-response.js';
import { forEachPlatform } from './utils/platforms.js';
import { endpointOf, entries, postBatch, useTestApp } from './utils/test-app.js';

const BODIES: Record<string, string> = {
  // Angular's documented XSSI protection: its HttpClient strips the prefix before parsing.
  xssi: `)]}',\n{"a":1}`,
  // UTF-8 with a byte order mark: fetch's text() and json() drop it.
  bom: '\uFEFF{"a":1}',
  invalid: 'not json',
  // A JSON string the app sent: the one the others were mistaken for.
  string: '"not json"',
};

@Controller('labelled')
class LabelledController {
  @Get(':kind')
  labelled(@Param('kind') kind: string, @Res() reply: object): void {
    const response = takeOverResponse(reply);
    response.setHeader('content-type', 'application/json');
    response.end(BODIES[kind]);
  }
}

@Module({ controllers: [LabelledController] })
class LabelledModule {}

/** What a caller reads: the text, and what json() gives or throws. */
async function read(response: Response): Promise<{ text: string; json: unknown }> {
  const text = await response.clone().text();
  let json: unknown;
  try {
    json = await response.json();
  } catch (error) {
    json = (error as Error).name;
  }
  return { text, json };
}

forEachPlatform(() => {
  const t = useTestApp({ imports: [LabelledModule] });

  it.each(Object.keys(BODIES))('reads a %s body labelled JSON as fetch reads it', async (kind) => {
    const direct = await read(await fetch(endpointOf(t, `/labelled/${kind}`)));
    const client = new BatchClient({ endpoint: endpointOf(t), stream: false });
    const batched = await read(await client.fetch(`/labelled/${kind}`));
    expect(batched).toEqual(direct);
  });

  it('gives a body labelled JSON that does not parse in base64, the reply still valid JSON', async () => {
    const reply = await postBatch(t, [{ method: 'GET', url: '/labelled/invalid' }]).expect(200);
    const [entry] = entries(reply);
    expect(entry).toMatchObject({ bodyEncoding: 'base64' });
    expect(Buffer.from(entry?.body as string, 'base64').toString('utf8')).toBe('not json');
  });
});
