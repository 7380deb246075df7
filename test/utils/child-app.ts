import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { request as httpRequest, type Agent } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { Platform } from './platforms.js';

/** An app of test/fixtures/ running in a process of its own. */
export interface ChildApp {
  readonly base: string;
  readonly port: number;
  /** What the app says it did, in order: its `log <what>` lines. */
  readonly log: readonly string[];
  /** SIGTERM by default; SIGKILL for an app whose event loop may not turn to hear it. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Sends a signal, and waits for nothing (a shutdown the test watches). */
  signal(signal: NodeJS.Signals): void;
  /** Once the app has exited; SIGKILL after 10 s. */
  exited(): Promise<void>;
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
  const log: string[] = [];
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const lines = output.split('\n');
      output = lines.pop() ?? '';
      for (const line of lines) {
        const listening = /^listening (\d+)$/.exec(line);
        if (listening) resolve(Number(listening[1]));
        else if (line.startsWith('log ')) log.push(line.slice('log '.length));
      }
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${String(code)}`)));
  });
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  return {
    base: `http://127.0.0.1:${port}`,
    port,
    log,
    stop: async (signal = 'SIGTERM') => {
      if (!running()) return;
      child.kill(signal);
      await once(child, 'exit');
    },
    signal: (signal) => child.kill(signal),
    exited: async () => {
      if (!running()) return;
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await once(child, 'exit');
      clearTimeout(timer);
    },
  };
}

/** What a request got: its answer, or the error code of a connection refused or reset. */
export type Outcome =
  { status: number; headers: Record<string, unknown>; body: string } | { error: string };

/** A JSON POST on `agent` (a keep-alive connection a test holds), its answer or its error. */
export function postJson(
  port: number,
  agent: Agent,
  path: string,
  body: unknown,
): Promise<Outcome> {
  const bytes = Buffer.from(JSON.stringify(body));
  return new Promise((resolve) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': bytes.length },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }),
        );
        res.on('error', (error: NodeJS.ErrnoException) =>
          resolve({ error: error.code ?? error.message }),
        );
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ error: error.code ?? error.message }),
    );
    req.end(bytes);
  });
}
