import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One fenced block of README.md or docs/*.md, and what the comment above it says of it. */
export interface Snippet {
  /** `README.md:101`: the file and the line of its opening fence. */
  readonly where: string;
  readonly file: string;
  readonly line: number;
  /** The fence's info string: `ts`, `json`, `bash`... */
  readonly lang: string;
  readonly code: string;
  /** `<!-- snippet: NAME -->` right above the fence: what the examples suite runs it as. */
  readonly name?: string;
  /** `<!-- not-run: WHY -->` right above the fence: the reason the doc gives. */
  readonly notRun?: string;
  /** `<!-- output: NAME -->` right above the fence: what the snippet NAME prints. */
  readonly outputOf?: string;
}

const TAG = /^<!--\s*(snippet|not-run|output):\s*(.*?)\s*-->$/;

/**
 * Every fenced block of the user docs. New pages and new blocks are picked up with nothing to
 * register: a TypeScript block is compiled whatever its tag, and runs when it is named.
 */
export function userDocSnippets(root: string): Snippet[] {
  const files = [
    'README.md',
    ...readdirSync(join(root, 'docs'))
      .filter((name) => name.endsWith('.md'))
      .sort()
      .map((name) => `docs/${name}`),
  ];
  return files.flatMap((file) => snippetsOf(file, readFileSync(join(root, file), 'utf8')));
}

export function snippetsOf(file: string, text: string): Snippet[] {
  const lines = text.split('\n');
  const found: Snippet[] = [];
  for (let at = 0; at < lines.length; at++) {
    const open = /^(`{3,})\s*([\w-]*)/.exec(lines[at] as string);
    if (!open) continue;
    const fence = open[1] as string;
    const start = at;
    const body: string[] = [];
    for (at++; at < lines.length && !(lines[at] as string).startsWith(fence); at++) {
      body.push(lines[at] as string);
    }
    let above = start - 1;
    while (above >= 0 && (lines[above] as string).trim() === '') above--;
    const comment = above >= 0 ? (lines[above] as string).trim() : '';
    // README's curl example, which scripts/check-readme-example.sh runs against the sample.
    const tag =
      comment === '<!-- example:start -->' ? ['', 'snippet', 'readme-example'] : TAG.exec(comment);
    found.push({
      where: `${file}:${start + 1}`,
      file,
      line: start + 1,
      lang: open[2] ?? '',
      code: body.join('\n'),
      ...(tag?.[1] === 'snippet' ? { name: tag[2] } : {}),
      ...(tag?.[1] === 'not-run' ? { notRun: tag[2] } : {}),
      ...(tag?.[1] === 'output' ? { outputOf: tag[2] } : {}),
    });
  }
  return found;
}
