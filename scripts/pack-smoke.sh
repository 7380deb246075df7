#!/usr/bin/env bash
# Packs the package as npm would publish it, installs the tarball into a fresh app outside this
# repository, and checks that an ESM app serves a batch through it, that nestjs-batch/client
# talks to it, and that CommonJS code can require both entry points (Node >= 20.19).
set -euo pipefail
cd "$(dirname "$0")/.."

npm run build >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tarball=$(npm pack --silent --pack-destination "$work" 2>/dev/null | tail -1)
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

cat >app.mjs <<'JS'
import 'reflect-metadata';
import { Controller, Get, Module, Param } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { BatchModule } from 'nestjs-batch';
import { BatchClient } from 'nestjs-batch/client';

class ItemsController {
  one(id) {
    return { id: Number(id) };
  }
}
Get(':id')(ItemsController.prototype, 'one', Object.getOwnPropertyDescriptor(ItemsController.prototype, 'one'));
Param('id')(ItemsController.prototype, 'one', 0);
Controller('items')(ItemsController);
class AppModule {}
Module({ imports: [BatchModule.forRoot()], controllers: [ItemsController] })(AppModule);

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
