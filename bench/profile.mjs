// node bench/profile.mjs <file.cpuprofile> [--top 30] [--us <µs per operation of the run>]
//
// Where the time of a `node --cpu-prof` run goes, by self time: the top functions (name, file and
// line) and the totals by where their code lives (the library's dist/, each package under
// node_modules, Node's own internals, V8's GC and the rest). Shares are of the samples that ran
// JavaScript or GC (idle left out); with --us, each share is also given as µs per operation of
// the measured figure (e.g. machinery.mjs's request stage), on the assumption that the profiled
// run spent its time as the measured one did. A profiling aid.
import { readFileSync } from 'node:fs';
import process from 'node:process';

const [file] = process.argv
  .slice(2)
  .filter((a, i, all) => !a.startsWith('--') && !all[i - 1]?.startsWith('--'));
const option = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const TOP = option('top', 30);
const US = option('us', 0);
const profile = JSON.parse(readFileSync(file, 'utf8'));

const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const hits = new Map();
for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);

/** Where a frame's code lives. */
function home(url) {
  if (!url) return 'V8/Node (native)';
  if (url.startsWith('node:')) return 'Node internals';
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1];
  if (/\/dist\//.test(url)) return 'nestjs-batch (dist)';
  if (/\/bench\//.test(url)) return 'bench harness';
  return url;
}
const short = (url) =>
  url
    .replace(/^file:\/\/.*?\/(dist|bench|node_modules)\//, '$1/')
    .replace(/^node:internal\//, 'node:');

const functions = new Map();
const homes = new Map();
let total = 0;
for (const [id, count] of hits) {
  const { callFrame } = byId.get(id);
  const name = callFrame.functionName || '(anonymous)';
  if (name === '(idle)') continue;
  total += count;
  const where =
    name === '(garbage collector)' || name === '(program)' || name === '(root)'
      ? name
      : home(callFrame.url);
  homes.set(where, (homes.get(where) ?? 0) + count);
  const key = `${name}  ${callFrame.url ? `${short(callFrame.url)}:${callFrame.lineNumber + 1}` : ''}`;
  functions.set(key, (functions.get(key) ?? 0) + count);
}
const line = (count) => {
  const share = (100 * count) / total;
  return `${share.toFixed(1).padStart(5)}%${US ? ` ${((share * US) / 100).toFixed(2).padStart(6)} µs/op` : ''}`;
};
console.log(`${total} samples (idle left out)`);
console.log('by where the code lives:');
for (const [where, count] of [...homes].sort((a, b) => b[1] - a[1]).slice(0, 15))
  console.log(`  ${line(count)}  ${where}`);
console.log(`top ${TOP} functions by self time:`);
for (const [key, count] of [...functions].sort((a, b) => b[1] - a[1]).slice(0, TOP))
  console.log(`  ${line(count)}  ${key}`);
