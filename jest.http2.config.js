import base from './jest.config.js';

/**
 * The suites of endings, cookies and formats again on Fastify over HTTP/2 (`npm run
 * test:http2`, `BATCH_E2E_HTTP2=1`: test/utils/platforms.ts), where a direct request is a stream
 * of a shared session, not a socket of its own. The other suites' clients speak HTTP/1 only.
 * @type {import('jest').Config}
 */
export default {
  ...base,
  roots: ['<rootDir>/test'],
  testMatch: [
    'endings',
    'endings-serve-static',
    'fidelity-cap-endings',
    'fidelity-backpressure',
    'fidelity-idle-timeout',
    'fidelity-informational',
    'fidelity-state',
    'fidelity-response-cap',
    'cookies',
    'cookie-fidelity',
    'cookie-domain-proxy',
    'sessions',
    'compression',
    'binary',
    'envelope',
    'differential',
    'entry-headers',
  ].map((name) => `**/${name}.e2e-spec.ts`),
};
