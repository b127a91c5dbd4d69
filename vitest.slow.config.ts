import { defineConfig } from 'vitest/config';

/**
 * `npm run test:slow`: what is too long for `npm test` (hundreds of workflow executions, the deploys of real public
 * Prisma histories), run after it by CI (`.ci/run`).
 */
export default defineConfig({
  test: {
    globalSetup: ['test/helpers/global-setup.ts'],
    setupFiles: ['test/helpers/setup.ts'],
    include: ['test/**/*.slow.test.ts'],
    testTimeout: 60 * 60_000,
    hookTimeout: 10 * 60_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
