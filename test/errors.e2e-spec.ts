import { forEachPlatform } from './utils/platforms.js';
import { entries, postBatch, useTestApp } from './utils/test-app.js';

/**
 * The error model: every entry the library writes itself, and every batch it refuses, carries a
 * machine-readable `reason`; what the app itself answers carries none.
 */
forEachPlatform(() => {
  const t = useTestApp({ batch: { operationTimeout: 300, exclude: ['/boom'] } });

  it('gives each entry the library answered for its reason, and none to the app’s own', async () => {
    const response = await postBatch(t, [
      { method: 'GET', url: '/teapot', name: 'tea' },
      { method: 'GET', url: '/echo', dependsOn: ['tea'] },
      { method: 'GET', url: '/echo', name: 'e' },
      { method: 'GET', url: '/echo?x={result=e:$.nothing.here}' },
      { method: 'GET', url: '/boom' },
      { method: 'GET', url: '/vault' },
      { method: 'GET', url: '/hang' },
      { method: 'GET', url: '/secret' },
    ]).expect(200);
    const reasons = entries(response).map(
      (entry) => (entry?.body as { reason?: string } | undefined)?.reason,
    );
    expect(reasons).toEqual([
      undefined, // the app's own 418
      'dependency-failed',
      undefined,
      'render-failed',
      'excluded',
      'skip-batch',
      'operation-timeout',
      undefined, // the app's own guard's 403
    ]);
    const codes = entries(response).map((entry) => entry?.code);
    expect(codes).toEqual([418, 424, 200, 400, 403, 403, 504, 403]);
  });

  it.each([
    ['an invalid batch', { data: [{ method: 'FETCH', url: '/echo' }] }, 400, 'invalid-batch'],
    [
      'too many operations',
      { data: Array.from({ length: 51 }, () => ({ method: 'GET', url: '/echo' })) },
      413,
      'too-many-operations',
    ],
  ])('refuses %s with a body that names its reason', async (_, body, status, reason) => {
    const response = await t.http.post('/batch').send(body).expect(status);
    expect(response.body).toMatchObject({ statusCode: status, reason });
  });

  it('refuses a format it does not speak with 415, reason unsupported-format', async () => {
    const response = await t.http
      .post('/batch')
      .set('content-type', 'text/csv')
      .send('a,b')
      .expect(415);
    expect(response.body).toMatchObject({ statusCode: 415, reason: 'unsupported-format' });
  });
});
