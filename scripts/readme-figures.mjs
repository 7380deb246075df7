// Writes README.md's performance figures from bench/results.json, between the figures markers.
// `--check` writes nothing and fails when README.md disagrees with results.json (a test runs it).
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const START =
  '<!-- figures:start: written by scripts/readme-figures.mjs from bench/results.json -->';
const END = '<!-- figures:end -->';

/** The figures block, from the results of `npm run bench`. */
export function renderFigures(results) {
  const target = (name) => {
    const found = results.targets.find((t) => t.name === name);
    if (!found) throw new Error(`bench/results.json has no target "${name}"`);
    return found.value;
  };
  const x = (value) => `${value.toFixed(value >= 10 ? 0 : 1)}x`;
  const h2 = (what) => target(`HTTP/2 wall / batch wall, ${what} (50 ms RTT)`);
  const independent = results.http2Comparison.rtt50ms['independent 50'];
  const fast = target('HTTP/2 wall / batch wall, independent 50 (20 ms RTT)');
  const fastRounds = results.targets.find((t) =>
    t.name.endsWith('independent 50 (20 ms RTT)'),
  ).rounds;
  const f = results.figures;
  const us = (opsPerSecond) => 1e6 / opsPerSecond;
  const fastifyShare =
    us(f.fastifyBatchedOperationsPerSecond) - us(f.fastifyDispatchFloorOperationsPerSecond);
  return [
    START,
    '',
    `- **Dependent work** (each request needs an earlier answer): one round trip where any client,`,
    `  HTTP/2 included, needs one per link: a chain of 5 is ${x(h2('chain 5'))} faster than HTTP/2, a chain of`,
    `  10 ${x(h2('chain 10'))}, create-read-update-list ${x(h2('create-read-update-list'))}, one request then 20 that depend on it ${x(h2('1 + 20 dependent'))}.`,
    `- **HTTP/1.1 clients**: 50 independent GETs are ${x(target('sequential wall / batch wall (50 ms RTT)'))} faster than one at a time and`,
    `  ${x(independent.six.wallMs / independent.batch.wallMs)} faster than six connections.`,
    `- **Independent requests from an HTTP/2 client: close.** HTTP/2 sends them in parallel on one`,
    `  connection; the batch was ${x(fast)} faster at 20 ms RTT (${fastRounds[0]}-${fastRounds[1]}x from run to run).`,
    `- **Bytes**: with response compression on, the batch of 50 GETs took ${target('batch bytes / HTTP/2 bytes, independent 50')}x HTTP/2's bytes.`,
    `- **Cost per operation**: about ${Math.round(fastifyShare)} µs over the dispatch floor on Fastify (a floor of about`,
    `  ${Math.round(us(f.fastifyDispatchFloorOperationsPerSecond))} µs), lost in Express's (about ${Math.round(us(f.dispatchFloorOperationsPerSecond))} µs).`,
    '',
    `Measured ${results.date.slice(0, 10)} on ${results.machine.cpus} cores, Node ${results.machine.node}, Nest ${results.machine.nest}.`,
    END,
  ].join('\n');
}

/** README.md with its figures block replaced. */
export function withFigures(readme, results) {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error('README.md has no figures markers');
  return readme.slice(0, start) + renderFigures(results) + readme.slice(end + END.length);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const readmePath = join(root, 'README.md');
  const readme = readFileSync(readmePath, 'utf8');
  const results = JSON.parse(readFileSync(join(root, 'bench/results.json'), 'utf8'));
  const next = withFigures(readme, results);
  if (process.argv.includes('--check')) {
    if (next !== readme) {
      console.error(
        'README.md performance figures differ from bench/results.json: run node scripts/readme-figures.mjs',
      );
      process.exit(1);
    }
  } else writeFileSync(readmePath, next);
}
