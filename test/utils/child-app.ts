import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { Platform } from './platforms.js';

/** An app of test/fixtures/ running in a process of its own. */
export interface ChildApp {
  readonly base: string;
  /** SIGTERM by default; SIGKILL for an app whose event loop may not turn to hear it. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Boots `test/fixtures/<script>` on the platform, against the built package, for apps that use
 * packages Jest's module runtime cannot load (each script says why); it prints
 * `listening <port>` once it listens.
 */
export async function startChildApp(
  script: string,
  platform: Platform,
  env: Record<string, string> = {},
): Promise<ChildApp> {
  const child: ChildProcess = spawn(
    process.execPath,
    [fileURLToPath(new URL(`../fixtures/${script}`, import.meta.url))],
    {
      env: { ...process.env, NODE_OPTIONS: '', PLATFORM: platform.name, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening (\d+)/.exec(output);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${String(code)}`)));
  });
  return {
    base: `http://127.0.0.1:${port}`,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await once(child, 'exit');
    },
  };
}
