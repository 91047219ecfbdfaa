// client-node 1.x and its auth dependencies are ESM-only. swc compiles them (and our
// TypeScript) to CommonJS; leaving any one of the four out of the allow-list breaks the run.
const esmOnly = ['@kubernetes/client-node', 'openid-client', 'oauth4webapi', 'jose'];

/** @type {import('jest').Config} */
module.exports = {
  // Every process a test starts is registered; a file's leftovers are killed when the file ends
  // (environment.ts) and the run's when it ends (globalTeardown.ts), so jest always exits.
  testEnvironment: '<rootDir>/test/support/jest/environment.ts',
  setupFilesAfterEnv: ['<rootDir>/test/support/jest/processGuard.ts'],
  globalSetup: '<rootDir>/test/support/jest/globalSetup.ts',
  globalTeardown: '<rootDir>/test/support/jest/globalTeardown.ts',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.(t|j)sx?$': ['@swc/jest', {
      jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
      module: { type: 'commonjs' },
    }],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esmOnly.join('|')})/)`],
  // A backstop for a test that hangs. The e2e and integration tests wait with deadlines of their
  // own (test/support/deadlines.ts) that fail first and say what they waited for.
  testTimeout: 180_000,
};
