/**
 * An operation with dependencies is not run once the app shuts down and its batch's connection
 * is to close (503 `shutting-down`): a client sending it then finds the server closing. With @nestjs/terminus's `gracefulShutdownTimeoutMs` (the Kubernetes set-up:
 * on SIGTERM the app goes on serving while the load balancer drains it, in
 * `beforeApplicationShutdown`), the server is not closing: A then B sent directly both run.
 * Batched, `[A, B dependsOn A]` got B refused, for the whole drain window; it runs, as directly.
 */
import { Agent } from 'node:http';
import { postJson, startChildApp, type Outcome } from './utils/child-app.js';
import { platforms } from './utils/platforms.js';
import { until } from './utils/wait-for.js';

const statusOf = (reply: Outcome): number | string =>
  'status' in reply ? reply.status : reply.error;

for (const platform of platforms) {
  describe(platform.name, () => {
    it("during terminus's drain window: [A, B dependsOn A] runs B, as A then B sent directly do", async () => {
      const app = await startChildApp('terminus-app.mjs', platform);
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        // Directly: SIGTERM while A runs; B sent once A answered.
        const a = postJson(app.port, agent, '/orders', {});
        await until(() => app.log.includes('create start'), 'A started');
        app.signal('SIGTERM');
        const first = await a;
        const second = await postJson(app.port, agent, '/orders/pay', { id: 7 });
        const direct = [statusOf(first), statusOf(second)];

        // Batched, still within the drain window (3 s): the same two.
        const reply = await postJson(app.port, agent, '/batch', {
          data: [
            { method: 'POST', url: '/orders', name: 'a', body: {} },
            {
              method: 'POST',
              url: '/orders/pay',
              dependsOn: ['a'],
              body: { id: '{result=a:$.id}' },
            },
          ],
        });
        const data =
          'status' in reply && reply.status === 200
            ? (JSON.parse(reply.body) as { data: { code: number }[] }).data.map((e) => e.code)
            : [statusOf(reply)];
        expect(direct).toEqual([201, 201]);
        expect(data).toEqual(direct);
        expect(app.log.filter((line) => line.startsWith('pay'))).toEqual(['pay 7', 'pay 7']);
      } finally {
        agent.destroy();
        await app.stop('SIGKILL');
      }
    }, 20_000);
  });
}
