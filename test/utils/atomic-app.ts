import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import request from 'supertest';
import type { Platform } from './platforms.js';

/** test/fixtures/atomic-app.mjs, running in a process of its own (see there why). */
export interface AtomicApp {
  http: ReturnType<typeof request>;
  /** `http://127.0.0.1:<port>`. */
  base: string;
  stop(): Promise<void>;
}

export interface AtomicAppOptions {
  platform: Platform;
  /** A SQLite file path, or a `postgres://` url. */
  database: string;
  /**
   * `false`: BatchModule gets no `transaction` hook; `'sqlite-connection'`: each group runs on a
   * better-sqlite3 connection of its own, closed with its transaction. Default `true`:
   * `txHost.withTransaction`, as README shows.
   */
  hook?: boolean | 'sqlite-connection';
  /** Further BatchModule options (JSON). */
  batch?: Record<string, unknown>;
  /** The server's idle timeout in ms (`server.timeout`): a connection silent longer is dropped. */
  idleTimeout?: number;
}

/** Boots the atomic-group app on `options.platform` and waits until it listens. */
export async function startAtomicApp(options: AtomicAppOptions): Promise<AtomicApp> {
  const child: ChildProcess = spawn(
    process.execPath,
    [fileURLToPath(new URL('../fixtures/atomic-app.mjs', import.meta.url))],
    {
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        PLATFORM: options.platform.name,
        DB: options.database,
        HOOK:
          options.hook === false ? '0' : options.hook === 'sqlite-connection' ? options.hook : '1',
        BATCH: JSON.stringify(options.batch ?? {}),
        IDLE: options.idleTimeout === undefined ? '' : String(options.idleTimeout),
      },
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
    child.once('exit', (code) => reject(new Error(`atomic app exited with ${String(code)}`)));
  });
  const base = `http://127.0.0.1:${port}`;
  return {
    http: request(base),
    base,
    stop: async () => {
      child.kill('SIGTERM');
      if (child.exitCode === null) await once(child, 'exit');
    },
  };
}
