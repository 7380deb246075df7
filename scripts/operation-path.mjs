// node scripts/operation-path.mjs [express|fastify] [--references] [--list]
//
// The path of one operation through lib/, measured rather than read: how many calls between
// files of different folders one native batch of one GET makes, from the controller to the
// dispatcher and back. Run after `npm run build`; it boots bench/app.mjs in this process and
// sends it `POST /batch` of `{ data: [{ method: 'GET', url: '/item' }] }` without the network
// (--references: and a second GET whose url takes a value of the first's answer).
//
// How it counts, exactly (no sampling): V8's precise coverage names every function of dist/ that
// two warm-up batches ran; each gets a breakpoint at its first breakable position whose
// condition records the call and answers false, so nothing pauses. During a third batch each
// call is written down with its caller: the frame just below it, when that frame is a file of
// dist/ ("direct"), or else the nearest file of dist/ further down the stack, with the
// framework or Node in between ("through the framework": a listener, a hook, an event). A
// callback that runs on a fresh turn of the event loop has no file of dist/ below it and counts
// as no crossing. A folder is lib/'s first path segment; a file at the top of lib/ is a node of
// its own, as `npm run check:cycles` counts them.
//
// Prints the counts, the folders entered, and with --list every crossing in call order.
import { Buffer } from 'node:buffer';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Session } from 'node:inspector/promises';
import { Duplex } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, relative, resolve } from 'node:path';
import process from 'node:process';

const platform = process.argv[2] && !process.argv[2].startsWith('--') ? process.argv[2] : 'fastify';
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = pathToFileURL(resolve(root, 'dist')).href + '/';

/** lib/ path of a dist/ url, or undefined for a file outside dist/ (the client is not lib's path). */
const libFileOf = (url) =>
  url?.startsWith(dist) && !url.startsWith(`${dist}client/`)
    ? `lib/${url.slice(dist.length).replace(/\.js$/, '.ts')}`
    : undefined;
const folderOf = (file) => {
  const rest = file.slice('lib/'.length);
  return rest.includes('/') ? `${rest.slice(0, rest.indexOf('/'))}/` : rest;
};

const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.startPreciseCoverage', { callCount: true, detailed: false });
const scripts = new Map();
session.on('Debugger.scriptParsed', ({ params }) => scripts.set(params.scriptId, params.url));
await session.post('Debugger.enable');

const { createBatchBenchApp } = await import(pathToFileURL(resolve(root, 'bench/app.mjs')).href);
const app = await createBatchBenchApp(platform);
const listener =
  platform === 'express'
    ? app.getHttpAdapter().getInstance()
    : app.getHttpAdapter().getInstance().routing;
// --references: a second GET whose url takes a value of the first's answer, so that the
// rendering of references is on the path too.
const operations = process.argv.includes('--references')
  ? [
      { method: 'GET', url: '/item', name: 'first' },
      { method: 'GET', url: '/item?after={result=first:$.id}' },
    ]
  : [{ method: 'GET', url: '/item' }];
const wire = Buffer.from(JSON.stringify({ data: operations }));

/** A socket that reads nothing and drops what is written: none of lib/'s code is on it. */
class NullSocket extends Duplex {
  remoteAddress = '127.0.0.1';
  remoteFamily = 'IPv4';
  _read() {}
  _write(chunk, encoding, callback) {
    callback();
  }
}
const batch = () =>
  new Promise((done, failed) => {
    const socket = new NullSocket();
    const request = new IncomingMessage(socket);
    Object.assign(request, { method: 'POST', url: '/batch', httpVersion: '1.1' });
    request.httpVersionMajor = request.httpVersionMinor = 1;
    request.headers = {
      host: 'localhost',
      'content-type': 'application/json',
      'content-length': String(wire.length),
    };
    request.rawHeaders = Object.entries(request.headers).flat();
    request.push(wire);
    request.push(null);
    request.complete = true;
    const response = new ServerResponse(request);
    response.assignSocket(socket);
    response.once('finish', () =>
      response.statusCode === 200
        ? done()
        : failed(new Error(`POST /batch: ${response.statusCode}`)),
    );
    listener(request, response);
  });

await session.post('Profiler.takePreciseCoverage'); // resets the counts: boot is not counted
await batch();
await batch();
const { result: coverage } = await session.post('Profiler.takePreciseCoverage');
await session.post('Profiler.stopPreciseCoverage');

/** breakpoint id -> [lib file, function name] */
const functions = [];
const lineStartsOf = async (scriptId) => {
  const { scriptSource } = await session.post('Debugger.getScriptSource', { scriptId });
  const starts = [0];
  for (let i = 0; i < scriptSource.length; i++) if (scriptSource[i] === '\n') starts.push(i + 1);
  return (offset) => {
    let line = starts.findLastIndex((start) => start <= offset);
    return { scriptId, lineNumber: line, columnNumber: offset - starts[line] };
  };
};
for (const script of coverage) {
  const file = libFileOf(script.url);
  if (!file) continue;
  const at = await lineStartsOf(script.scriptId);
  for (const fn of script.functions) {
    const [range] = fn.ranges;
    if (!range || range.count === 0 || (fn.functionName === '' && range.startOffset === 0))
      continue;
    const { locations } = await session.post('Debugger.getPossibleBreakpoints', {
      start: at(range.startOffset),
      end: at(range.endOffset),
      restrictToFunction: true,
    });
    if (locations.length === 0) continue;
    const id = functions.push([file, fn.functionName || '(anonymous)']) - 1;
    await session.post('Debugger.setBreakpoint', {
      location: locations[0],
      condition: `globalThis.__operationPath?.(${id}) ?? false`,
    });
  }
}

/** [caller file, callee id, through the framework] in call order */
const calls = [];
globalThis.__operationPath = (id) => {
  const prepare = Error.prepareStackTrace;
  const limit = Error.stackTraceLimit;
  Error.prepareStackTrace = (_, sites) => sites;
  Error.stackTraceLimit = 80;
  const sites = new Error().stack;
  Error.prepareStackTrace = prepare;
  Error.stackTraceLimit = limit;
  // [this function, the condition's eval, the callee, its caller, ...]
  const callee = sites.findIndex((site) => libFileOf(site.getFileName?.() ?? undefined));
  let caller;
  let through = false;
  for (const site of sites.slice(callee + 1)) {
    caller = libFileOf(site.getFileName() ?? undefined);
    if (caller) break;
    through = true;
  }
  calls.push([caller, id, through]);
  return false;
};
await batch();
globalThis.__operationPath = undefined;
await app.close();
session.disconnect();

const crossings = [];
const folders = new Set();
let between = 0;
for (const [caller, id, through] of calls) {
  const [file, name] = functions[id];
  folders.add(folderOf(file));
  if (!caller || caller === file) continue;
  between++;
  if (folderOf(caller) !== folderOf(file)) crossings.push({ caller, file, name, through });
}
const direct = crossings.filter((c) => !c.through).length;
console.log(
  `${platform}: ${calls.length} calls of lib/ functions; ${between} between files; ` +
    `${crossings.length} between folders (${direct} direct, ${crossings.length - direct} through the framework); ` +
    `${folders.size} folders entered: ${[...folders].sort().join(' ')}`,
);
if (process.argv.includes('--list')) {
  for (const { caller, file, name, through } of crossings) {
    console.log(
      `  ${relative('lib', caller)} ${through ? '~>' : '->'} ${relative('lib', file)} ${name}`,
    );
  }
}
