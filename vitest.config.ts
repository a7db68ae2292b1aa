import { defineConfig } from 'vitest/config';

// End-to-end tests start real processes; keep parallelism modest on a 2-core machine.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    maxWorkers: 2,
    // Chooses the course data or synthetic data of the same shape, and says which (test/helpers/test-data.ts).
    globalSetup: ['test/helpers/global-setup.ts'],
    // Refusals explained as in the programs (src/protocol/explain-lazy.ts).
    setupFiles: ['test/helpers/explain-setup.ts'],
  },
});
