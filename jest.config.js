/**
 * Jest runs the ESM sources directly through ts-jest. `nestjs-batch` maps to the
 * sources so tests import the package by its public name, as users do.
 * @type {import('jest').Config}
 */
export default {
  testEnvironment: 'node',
  // Some suites run the built package (dist/) as an installed app would: build it first, every run.
  globalSetup: '<rootDir>/test/setup/build.global-setup.js',
  globalTeardown: '<rootDir>/test/setup/build.global-teardown.js',
  extensionsToTreatAsEsm: ['.ts'],
  roots: ['<rootDir>/lib', '<rootDir>/test'],
  testMatch: ['**/*.spec.ts', '**/*.e2e-spec.ts'],
  moduleNameMapper: {
    '^nestjs-batch$': '<rootDir>/lib/index.ts',
    '^nestjs-batch/client$': '<rootDir>/lib/client/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  // Only a guard against a hang: on a shared CI machine the first app of a file (its imports,
  // Nest's bootstrap) took over 20 s once, where it takes 0.3 s alone. A hang still fails here.
  testTimeout: 60_000,
};
