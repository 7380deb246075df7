import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import process from 'node:process';
// @ts-expect-error: a plain ESM module of the jest set-up, without types
import { DIST_LOCK, holdDist, releaseDist, takeOver } from './setup/dist.lock.js';

/**
 * Two jest runs in one checkout broke each other: the second's global set-up deleted dist/ while
 * the first's child-process suites (atomic groups, throttler) were starting from it. The lock
 * makes the second run stop at once, naming the first, instead of failing suites at random.
 */
describe('the jest run lock on dist/', () => {
  let root: string;
  beforeEach(() => (root = mkdtempSync(join(tmpdir(), 'dist-lock-'))));
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const lockFile = () => join(root, DIST_LOCK);

  it('is taken by a run and given back at its end', () => {
    holdDist(root);
    expect(readFileSync(lockFile(), 'utf8').trim()).toBe(String(process.pid));
    releaseDist(root);
    expect(existsSync(lockFile())).toBe(false);
  });

  it('refuses a second run while the first is alive, naming it', () => {
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      writeFileSync(lockFile(), `${other.pid}\n`);
      expect(() => holdDist(root)).toThrow(new RegExp(`jest run \\(pid ${other.pid}\\)`));
      // The refused run does not take the lock from the one holding it.
      releaseDist(root);
      expect(readFileSync(lockFile(), 'utf8').trim()).toBe(String(other.pid));
    } finally {
      other.kill();
    }
  });

  it('takes over the lock of a run that died without giving it back', () => {
    const gone = spawnSync(process.execPath, ['-e', '0']).pid;
    writeFileSync(lockFile(), `${gone}\n`);
    holdDist(root);
    expect(readFileSync(lockFile(), 'utf8').trim()).toBe(String(process.pid));
  });

  /** Runs that start at once, each trying for the lock and holding on 1 s: how many got it. */
  async function startAtOnce(runs: number): Promise<string[]> {
    const lock = resolve('test/setup/dist.lock.js');
    const script =
      `import { holdDist } from ${JSON.stringify(lock)};` +
      `try { holdDist(${JSON.stringify(root)}); console.log('held'); }` +
      ` catch { console.log('refused'); }` +
      ` setTimeout(() => {}, 1000);`;
    const children = Array.from({ length: runs }, () =>
      spawn(process.execPath, ['--input-type=module', '-e', script]),
    );
    return Promise.all(
      children.map(
        (child) =>
          new Promise<string>((done) => {
            let out = '';
            child.stdout.on('data', (chunk: Buffer) => (out += String(chunk)));
            child.on('exit', () => done(out.trim()));
          }),
      ),
    );
  }

  it('goes to one run of several that start at once', async () => {
    const outcomes = await startAtOnce(8);
    expect(outcomes.filter((outcome) => outcome === 'held')).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome === 'refused')).toHaveLength(7);
  });

  it('goes to one run of several that find the same stale lock', async () => {
    writeFileSync(lockFile(), `${spawnSync(process.execPath, ['-e', '0']).pid}\n`);
    const outcomes = await startAtOnce(8);
    expect(outcomes.filter((outcome) => outcome === 'held')).toHaveLength(1);
  });

  it('does not remove the lock another run has just taken in place of the stale one', () => {
    // Two runs read the same dead pid; the first removed that lock and took its own: the
    // second's takeover must leave it.
    const gone = spawnSync(process.execPath, ['-e', '0']).pid;
    const first = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      writeFileSync(lockFile(), `${first.pid}\n`);
      takeOver(lockFile(), gone);
      expect(readFileSync(lockFile(), 'utf8').trim()).toBe(String(first.pid));
      expect(() => holdDist(root)).toThrow(new RegExp(`pid ${first.pid}`));
    } finally {
      first.kill();
    }
  });

  it('takes over a lock file that names no process', () => {
    writeFileSync(lockFile(), 'garbage');
    holdDist(root);
    expect(readFileSync(lockFile(), 'utf8').trim()).toBe(String(process.pid));
  });
});
