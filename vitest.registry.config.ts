import { defineConfig } from 'vitest/config';

/**
 * The registry suite (`npm run test:registry`): a plugin's life through a private npm registry,
 * test/registry. Kept out of `npm test` (vitest.config.ts excludes it): it needs npmjs (verdaccio,
 * typescript through the uplink), and its length is in bench/FINDINGS.md.
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
