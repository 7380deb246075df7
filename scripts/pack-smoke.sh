#!/usr/bin/env bash
# Packs the package as npm would publish it, installs the tarball into fresh apps outside this
# repository, and checks that an ESM Nest 12 app serves a batch through it, that
# nestjs-batch/client talks to it, that CommonJS code can require both entry points
# (Node >= 20.19), and that a CommonJS Nest 11 app serves batches on Express and Fastify.
set -euo pipefail
cd "$(dirname "$0")/.."

repo=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Packed from a clean tree: the files git tracks, as they are now, with no dist/ or other build
# output. `npm pack` must then build the package itself (prepack), as it does for a publish.
mkdir "$work/clean"
git ls-files -z --cached --others --exclude-standard | xargs -0 tar -cf - | tar -xf - -C "$work/clean"
ln -s "$repo/node_modules" "$work/clean/node_modules"
tarball=$(cd "$work/clean" && npm pack --silent --pack-destination "$work" 2>/dev/null | tail -1)
# (the listing is read whole: grep -q would stop early and fail the pipe under pipefail)
if ! tar -tzf "$work/$tarball" | grep -x 'package/dist/index.js' >/dev/null; then
  echo "pack smoke: $tarball holds no dist/index.js" >&2
  exit 1
fi
# The peers at the versions this repository is tested with.
peers=$(node -e '
  const { devDependencies: dev } = require("./package.json");
  const names = ["@nestjs/common", "@nestjs/core", "@nestjs/platform-express", "reflect-metadata",
    "rxjs", "class-validator", "class-transformer"];
  console.log(names.map((name) => `${name}@${dev[name]}`).join(" "));
')

cd "$work"
echo '{ "name": "pack-smoke", "private": true, "type": "module" }' >package.json
# shellcheck disable=SC2086
npm install --no-audit --no-fund --prefer-offline --loglevel=error "./$tarball" $peers >/dev/null

cp "$repo/scripts/pack-smoke-app.cjs" .
cat >app.mjs <<'JS'
import 'reflect-metadata';
import * as common from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import * as batch from 'nestjs-batch';
import { BatchClient } from 'nestjs-batch/client';
import defineItemsApp from './pack-smoke-app.cjs';

const AppModule = defineItemsApp(common, batch);

const app = await NestFactory.create(AppModule, { logger: false });
await app.listen(0, '127.0.0.1');
const { port } = app.getHttpServer().address();
let batches = 0;
const client = new BatchClient({
  endpoint: `http://127.0.0.1:${port}/batch`,
  fetch: (input, init) => (batches++, fetch(input, init)),
});
const bodies = await Promise.all([1, 2, 3].map((id) => client.fetch(`/items/${id}`).then((r) => r.json())));
await app.close();
if (JSON.stringify(bodies) !== '[{"id":1},{"id":2},{"id":3}]' || batches !== 1) {
  console.error('pack smoke: unexpected', bodies, batches);
  process.exit(1);
}
console.log('pack smoke: the packed package served 3 calls in 1 batch');
JS
node app.mjs
node --no-warnings -e '
  const { BatchModule } = require("nestjs-batch");
  const { BatchClient, ref } = require("nestjs-batch/client");
  if (typeof BatchModule.forRoot !== "function" || typeof BatchClient !== "function" || ref("a") !== "{result=a:$}") process.exit(1);
  console.log("pack smoke: CommonJS require() of both entry points works");
'

# A CommonJS app on NestJS 11, the peers at the versions of test/nest11.
mkdir "$work/nest11" && cd "$work/nest11"
echo '{ "name": "pack-smoke-nest11", "private": true }' >package.json
peers11=$(node -e '
  const { dependencies: deps } = require(process.argv[1]);
  console.log(Object.entries(deps).map(([name, version]) => `${name}@${version}`).join(" "));
' "$repo/test/nest11/package.json")
# shellcheck disable=SC2086
npm install --no-audit --no-fund --prefer-offline --loglevel=error "../$tarball" $peers11 \
  class-validator class-transformer >/dev/null

cp "$repo/scripts/pack-smoke-app.cjs" .
cat >app.js <<'JS'
require('reflect-metadata');
const { NestFactory } = require('@nestjs/core');
const { ExpressAdapter } = require('@nestjs/platform-express');
const { FastifyAdapter } = require('@nestjs/platform-fastify');
const defineItemsApp = require('./pack-smoke-app.cjs');

const AppModule = defineItemsApp(require('@nestjs/common'), require('nestjs-batch'));

async function serve(adapter) {
  const app = await NestFactory.create(AppModule, adapter, { logger: false });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address();
  const response = await fetch(`http://127.0.0.1:${port}/batch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ data: [1, 2].map((id) => ({ method: 'GET', url: `/items/${id}` })) }),
  });
  const { data } = await response.json();
  await app.close();
  const bodies = JSON.stringify(data.map((entry) => entry.body));
  if (response.status !== 200 || bodies !== '[{"id":1},{"id":2}]') {
    throw new Error(`pack smoke: Nest 11 on ${adapter.getType()} answered ${response.status} ${bodies}`);
  }
}

(async () => {
  const version = require('@nestjs/core/package.json').version;
  if (!version.startsWith('11.')) throw new Error(`pack smoke: expected Nest 11, got ${version}`);
  await serve(new ExpressAdapter());
  await serve(new FastifyAdapter());
  console.log(`pack smoke: a CommonJS Nest ${version} app serves batches on Express and Fastify`);
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
JS
node --no-warnings app.js
