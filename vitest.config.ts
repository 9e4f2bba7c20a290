import { defineConfig } from 'vitest/config';

/**
 * Two projects: `unit` (test/unit, no broker) and `integration` (every other test/**\/*.test.ts,
 * with one RabbitMQ per run from test/support/global-setup.ts, SPEC §6). A run that selects only
 * unit tests starts no broker.
 */
export default defineConfig({
  test: {
    pool: 'forks',
    // 2-core machines: at most two test files at once (each may start brokers and daemons).
    maxWorkers: 2,
    fileParallelism: true,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    teardownTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          // test/registry: its own suite, `npm run test:registry` (vitest.registry.config.ts).
          exclude: ['test/unit/**', 'test/registry/**', '**/node_modules/**'],
          globalSetup: ['test/support/global-setup.ts'],
        },
      },
    ],
  },
});
