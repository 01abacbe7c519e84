import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'connectors/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'test/bench/**'],
    pool: 'forks',
    globalSetup: ['test/support/template-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
