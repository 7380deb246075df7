// No import cycles in lib/: between files (madge), nor between the pipeline's folders, so the
// folder listing reads as the order a batch goes through. Files at the top of lib/ (module,
// options, constants) each count as a node of their own: some sit above the pipeline, some below.
import madge from 'madge';
import process from 'node:process';

const graph = await madge('lib', {
  fileExtensions: ['ts'],
  tsConfig: 'tsconfig.json',
  excludeRegExp: [/\.spec\.ts$/],
});
const problems = graph.circular().map((cycle) => `file cycle: ${cycle.join(' -> ')}`);

const nodeOf = (file) => (file.includes('/') ? `${file.slice(0, file.indexOf('/'))}/` : file);
/** node -> node -> one file import behind that edge, for the message */
const edges = new Map();
for (const [file, imports] of Object.entries(graph.obj())) {
  for (const target of imports) {
    const [from, to] = [nodeOf(file), nodeOf(target)];
    if (from === to) continue;
    if (!edges.has(from)) edges.set(from, new Map());
    edges.get(from).set(to, `${file} -> ${target}`);
  }
}

// Tarjan's strongly connected components: every component of more than one node is a cycle.
let counter = 0;
const index = new Map();
const low = new Map();
const stack = [];
const visit = (node) => {
  index.set(node, counter);
  low.set(node, counter++);
  stack.push(node);
  for (const next of edges.get(node)?.keys() ?? []) {
    if (!index.has(next)) {
      visit(next);
      low.set(node, Math.min(low.get(node), low.get(next)));
    } else if (stack.includes(next)) low.set(node, Math.min(low.get(node), index.get(next)));
  }
  if (low.get(node) !== index.get(node)) return;
  const component = [];
  let member;
  do {
    member = stack.pop();
    component.push(member);
  } while (member !== node);
  if (component.length < 2) return;
  const inside = component.flatMap((from) =>
    [...(edges.get(from) ?? [])].filter(([to]) => component.includes(to)).map(([, why]) => why),
  );
  problems.push(`folder cycle among ${component.join(', ')}:\n  ${inside.join('\n  ')}`);
};
for (const node of edges.keys()) if (!index.has(node)) visit(node);

if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(
  `check-cycles: no import cycle among the ${Object.keys(graph.obj()).length} files of lib/`,
);
