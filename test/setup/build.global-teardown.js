import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { releaseDist } from './dist.lock.js';

/** Gives back the lock on dist/ that the global set-up took (a run that dies leaves it stale). */
export default function releaseDistLock() {
  releaseDist(resolve(dirname(fileURLToPath(import.meta.url)), '../..'));
}
