import { linkSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import process from 'node:process';

/** The lock file, at the checkout's root: it names the pid of the jest run using dist/. */
export const DIST_LOCK = '.dist.lock';

/**
 * Takes dist/ for this jest run. The global set-up deletes and rebuilds dist/, and some suites
 * run it in child processes throughout the run, so a second run in the same checkout would
 * delete it under the first: it is refused here, naming the first, rather than failing the
 * first's suites at random. A lock whose run died (its pid gone) is taken over.
 * @param {string} root The checkout.
 */
export function holdDist(root) {
  const file = resolve(root, DIST_LOCK);
  for (;;) {
    if (create(file)) return;
    const holder = holderOf(file);
    if (holder !== undefined && holder !== process.pid && isAlive(holder)) {
      throw new Error(
        `another jest run (pid ${holder}) is using dist/ in this checkout: wait for it to end, ` +
          `or run this one in another checkout (the lock is ${file})`,
      );
    }
    takeOver(file, holder);
  }
}

/**
 * Gives dist/ back at the end of the run, if this run holds it.
 * @param {string} root The checkout.
 */
export function releaseDist(root) {
  const file = resolve(root, DIST_LOCK);
  if (holderOf(file) === process.pid) rmSync(file, { force: true });
}

/**
 * Creates `file` holding this pid, or returns false if it exists. Written aside and linked into
 * place, so no other run ever reads it empty (and takes it for stale).
 */
function create(file) {
  const aside = `${file}.${process.pid}`;
  writeFileSync(aside, `${process.pid}\n`);
  try {
    linkSync(aside, file);
    return true;
  } catch (error) {
    if (error.code !== 'EEXIST') throw error;
    return false;
  } finally {
    rmSync(aside, { force: true });
  }
}

/**
 * Exported for its test. Removes a stale lock (`stale`: the holder read, dead or unreadable), under a lock of its own:
 * two runs that both saw it stale must not have the second remove the lock the first has just
 * taken. The caller tries again either way.
 */
export function takeOver(file, stale) {
  const guard = `${file}.takeover`;
  if (!create(guard)) {
    const taker = holderOf(guard);
    // Another run is taking over: let it. A guard left by a run that died is removed.
    if (taker === undefined || !isAlive(taker)) rmSync(guard, { force: true });
    return;
  }
  try {
    if (holderOf(file) === stale) rmSync(file, { force: true });
  } finally {
    rmSync(guard, { force: true });
  }
}

function holderOf(file) {
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, but another user's.
    return error.code === 'EPERM';
  }
}
