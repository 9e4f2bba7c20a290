import { defineConfig } from 'vitest/config';

/**
 * The registry suite (`npm run test:registry`): a plugin's life through a private npm registry,
 * test/registry. Kept out of `npm test` (vitest.config.ts excludes it): it takes over two minutes
 * on a 2-core machine, most of it npm, and it reaches npmjs for verdaccio and typescript.
 */
export default defineConfig({
  test: {
    name: 'registry',
    include: ['test/registry/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 1,
    testTimeout: 300_000,
    hookTimeout: 900_000,
    teardownTimeout: 60_000,
  },
});
