/**
 * An operation with dependencies is not run once the app shuts down and its batch's connection
 * is to close (503 `shutting-down`): a client sending it then would find the server closing. A
 * batch run from code during the app's own shutdown hooks has no client:
 * an outbox or a cache flushed in `onModuleDestroy` / `beforeApplicationShutdown` (the providers
 * still open, the HTTP server still listening) runs `[A, B that reads A]`; in
 * `beforeApplicationShutdown`, after every `onModuleDestroy`. The same two requests
 * sent there directly, one after the other, both run; from `BatchExecutor` B is refused.
 */
import {
  Injectable,
  Module,
  type BeforeApplicationShutdown,
  type OnModuleDestroy,
} from '@nestjs/common';
import { BatchExecutor, type BatchOperation } from 'nestjs-batch';
import { request as httpRequest } from 'node:http';
import { forEachPlatform } from './utils/platforms.js';
import { createTestApp, portOf } from './utils/test-app.js';

interface Seen {
  direct: number[];
  batched: (number | undefined)[];
}

const OPERATIONS: BatchOperation[] = [
  {
    method: 'POST',
    url: '/echo',
    name: 'a',
    headers: { 'content-type': 'application/json' },
    body: { id: 7 },
  },
  { method: 'GET', url: '/echo?id={result=a:$.body.id}' },
];

/**
 * A request to the app itself on a connection of its own that closes after it (no keep-alive
 * connection left for the app's close to wait for): its status and JSON body.
 */
function call(port: number, method: string, path: string, body?: unknown): Promise<Answer> {
  const bytes = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method,
        agent: false,
        headers: bytes
          ? { 'content-type': 'application/json', 'content-length': bytes.length }
          : {},
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown }),
        );
      },
    );
    req.on('error', reject);
    req.end(bytes);
  });
}

interface Answer {
  status: number;
  body: unknown;
}

/** Flushes work at shutdown, directly (HTTP to itself) and through BatchExecutor. */
async function flush(batches: BatchExecutor, port: number, seen: Seen): Promise<void> {
  const a = await call(port, 'POST', '/echo', { id: 7 });
  const { id } = (a.body as { body: { id: number } }).body;
  const b = await call(port, 'GET', `/echo?id=${id}`);
  seen.direct = [a.status, b.status];
  const results = await batches.execute(OPERATIONS);
  seen.batched = results.map((result) => result?.code);
}

const state = {
  port: 0,
  hook: '' as 'destroy' | 'before',
  seen: { direct: [], batched: [] } as Seen,
};

@Injectable()
class Outbox implements OnModuleDestroy, BeforeApplicationShutdown {
  constructor(private readonly batches: BatchExecutor) {}
  async onModuleDestroy(): Promise<void> {
    if (state.hook === 'destroy') await flush(this.batches, state.port, state.seen);
  }
  async beforeApplicationShutdown(): Promise<void> {
    if (state.hook === 'before') await flush(this.batches, state.port, state.seen);
  }
}

@Module({ providers: [Outbox] })
class OutboxModule {}

forEachPlatform(() => {
  it.each(['before'] as const)(
    // (Held: in `onModuleDestroy` of a module Nest destroys before BatchModule's, B runs.)
    'runs [A, B reading A] from code in beforeApplicationShutdown (%s) as the two requests run directly',
    async (hook) => {
      const t = await createTestApp({ batch: { isGlobal: true }, imports: [OutboxModule] });
      state.port = portOf(t);
      state.hook = hook;
      state.seen = { direct: [], batched: [] };
      await t.close();
      expect(state.seen.direct).toEqual([200, 200]);
      expect(state.seen.batched).toEqual(state.seen.direct);
    },
  );
});
