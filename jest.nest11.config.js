import process from 'node:process';
import base from './jest.config.js';

// Read by a test that fails if the run is not on the Nest it is meant for.
process.env.NEST_MAJOR = '11';

/**
 * The second test run: the same e2e suites against NestJS 11 (CommonJS), installed in
 * test/nest11 (`npm run test:nest11`). Every `@nestjs/*` import, the library's and the tests',
 * resolves there, so one Nest 11 runs the app and the library together.
 * @type {import('jest').Config}
 */
export default {
  ...base,
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.e2e-spec.ts'],
  // Throttler, tracing, openapi-optional and the atomic-group suites run a Nest 12 app of their
  // own in a child process (the built package against the root's node_modules); fuzzing adds
  // time, not coverage. The docs' snippets boot as apps of their own too (test/docs/).
  // @nestjs/graphql 14, @nestjs/apollo 14 and @nestjs/mercurius 14 want Nest 12.
  testPathIgnorePatterns: [
    '/node_modules/',
    'throttler',
    'shutdown',
    'tracing',
    'openapi-optional',
    'endings-serve-static',
    'batch-body',
    'atomic-groups',
    'atomic-postgres',
    'atomic-bounds',
    'fuzz',
    'graphql',
    'snippets',
    'sample-curls',
  ],
  moduleNameMapper: {
    '^@nestjs/(common|core|platform-express|platform-fastify|swagger|testing)(/.*)?$':
      '<rootDir>/test/nest11/node_modules/@nestjs/$1$2',
    '^rxjs$': '<rootDir>/test/nest11/node_modules/rxjs',
    ...base.moduleNameMapper,
  },
};
