import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { holdDist } from './dist.lock.js';

/**
 * Builds dist/ afresh before any suite runs. A few tests use the built package as an installed
 * app would (the throttler app in a child process, the client bundle's import check): without
 * this they fail on a clean clone, or test whatever stale dist/ an earlier build left. One run at
 * a time per checkout (dist.lock.js): a second would delete dist/ under the first's suites.
 */
export default function buildDist() {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  holdDist(root);
  rmSync(resolve(root, 'dist'), { recursive: true, force: true });
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
}
