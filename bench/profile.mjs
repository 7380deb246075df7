// node bench/profile.mjs <file.cpuprofile> [--us <µs per operation>] [--top 30] [--skip auto|<s>]
//   [--owner <regexp>] [--inclusive <regexp>] [--minus <other.cpuprofile> --minus-us <µs>]
//
// Where the time of a `node --cpu-prof` run goes. Prints the totals by where the code lives (the
// library's dist/, each package under node_modules, Node's internals, V8's GC and the rest) and
// the top functions by self time (name, file and line). Shares are of the samples that ran
// JavaScript or GC (idle left out); with --us, each is also given as µs per operation of the
// figure the run measured (e.g. machinery.mjs's request stage), on the assumption that the
// profiled run spent its time as the measured one did.
//   --skip      leaves out the profile's first seconds (start, module loading, warm-up); `auto`, the
//               default: up to the last module loaded in the profile's first 60%, plus 1 s
//   --owner     gives each sample to the innermost frame that matches, e.g. '  dist/' (the
//               library function whose call it is, the Node and package work it asked for
//               included); samples with no such frame to '(none: where their own code lives)'
//   --inclusive the functions that match, by total time (self and callees)
//   --minus     what this run spends beyond another's, in µs per operation (both --us and
//               --minus-us needed): by where the code lives and by function, e.g. the batched
//               path minus the dispatch floor (bench/breakdown.mjs --only request / --only floor)
// A profiling aid.
import { readFileSync } from 'node:fs';
import process from 'node:process';

const argument = (name) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : undefined;
};
const [file] = process.argv
  .slice(2)
  .filter((a, i, all) => !a.startsWith('--') && !all[i - 1]?.startsWith('--'));
const TOP = Number(argument('top') ?? 30);
const US = Number(argument('us') ?? 0);
const regexp = (name) => (argument(name) ? new RegExp(argument(name)) : undefined);
const OWNER = regexp('owner');
const INCLUSIVE = regexp('inclusive');
const MINUS = argument('minus');
const MINUS_US = Number(argument('minus-us') ?? 0);
if (MINUS && !(US > 0 && MINUS_US > 0)) throw new Error('--minus needs --us and --minus-us');

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
/** A frame's file, from `node_modules/`, `dist/` or `bench/` on, whatever the checkout's path. */
const short = (url) => {
  const at = url.lastIndexOf('/node_modules/');
  if (at >= 0) return url.slice(at + 1);
  const from = Math.max(url.lastIndexOf('/dist/'), url.lastIndexOf('/bench/'));
  return from >= 0 ? url.slice(from + 1) : url.replace(/^node:internal\//, 'node:');
};
const keyOf = ({ functionName, url, lineNumber }) =>
  `${functionName || '(anonymous)'}  ${url ? `${short(url)}:${lineNumber + 1}` : ''}`;
const add = (map, key, count) => map.set(key, (map.get(key) ?? 0) + count);

/** One profile's samples by function, by home, by owner and inclusive, after the skip. */
function tally(path) {
  const profile = JSON.parse(readFileSync(path, 'utf8'));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parentOf.set(child, node.id);
  const stack = function* (id) {
    for (let node = id; node !== undefined; node = parentOf.get(node)) yield byId.get(node);
  };
  const loading = (id) =>
    [...stack(id)].some(({ callFrame: { url } }) => /^node:(internal\/)?modules/.test(url));
  const times = [];
  profile.timeDeltas.reduce((sum, delta, i) => (times[i] = sum + delta), 0);
  const skip = argument('skip') ?? 'auto';
  let skipUs = Number(skip) * 1e6;
  if (skip === 'auto') {
    skipUs = 0;
    const end = times.at(-1) * 0.6;
    for (let i = 0; i < times.length && times[i] < end; i++)
      if (loading(profile.samples[i])) skipUs = times[i] + 1e6;
  }
  const hits = new Map();
  profile.samples.forEach((id, i) => times[i] >= skipUs && add(hits, id, 1));

  const out = { skipUs, total: 0, functions: new Map(), homes: new Map() };
  out.owners = new Map();
  out.inclusive = new Map();
  for (const [id, count] of hits) {
    const { callFrame } = byId.get(id);
    const name = callFrame.functionName;
    if (name === '(idle)') continue;
    out.total += count;
    const where = name.startsWith('(') ? name : home(callFrame.url);
    add(out.homes, where, count);
    add(out.functions, keyOf(callFrame), count);
    if (OWNER) {
      const owner = [...stack(id)].find((node) => OWNER.test(keyOf(node.callFrame)));
      add(out.owners, owner ? keyOf(owner.callFrame) : `(none: ${where})`, count);
    }
    if (INCLUSIVE) {
      const keys = new Set([...stack(id)].map((node) => keyOf(node.callFrame)));
      for (const key of keys) if (INCLUSIVE.test(key)) add(out.inclusive, key, count);
    }
  }
  return out;
}

const run = tally(file);
const share = (count, total = run.total) => (100 * count) / total;
const line = (count) =>
  `${share(count).toFixed(1).padStart(5)}%${US ? ` ${((share(count) * US) / 100).toFixed(2).padStart(6)} µs/op` : ''}`;
const list = (title, map, top = TOP) => {
  console.log(title);
  for (const [key, count] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`  ${line(count)}  ${key}`);
};
console.log(`${run.total} samples (idle left out) from ${(run.skipUs / 1e6).toFixed(1)} s on`);
list('by where the code lives:', run.homes, 15);
list(`top ${TOP} functions by self time:`, run.functions);
if (OWNER) list(`top ${TOP} owners (innermost frame matching ${OWNER}):`, run.owners);
if (INCLUSIVE) list(`top ${TOP} functions matching ${INCLUSIVE}, self and callees:`, run.inclusive);

if (MINUS) {
  const other = tally(MINUS);
  const us = (count, total, perOp) => (count / total) * perOp;
  const diff = (mine, theirs, top) => {
    const keys = new Set([...mine.keys(), ...theirs.keys()]);
    const rows = [...keys].map((key) => [
      key,
      us(mine.get(key) ?? 0, run.total, US) - us(theirs.get(key) ?? 0, other.total, MINUS_US),
      us(mine.get(key) ?? 0, run.total, US),
    ]);
    for (const [key, delta, own] of rows.sort((a, b) => b[1] - a[1]).slice(0, top))
      console.log(
        `  ${delta >= 0 ? '+' : ''}${delta.toFixed(2).padStart(6)} µs/op (${own.toFixed(2)} against ${(own - delta).toFixed(2)})  ${key}`,
      );
  };
  console.log(
    `this run (${US} µs/op) minus ${MINUS} (${MINUS_US} µs/op), by where the code lives:`,
  );
  diff(run.homes, other.homes, 15);
  console.log(`by function (self time), the ${TOP} largest additions:`);
  diff(run.functions, other.functions, TOP);
}
