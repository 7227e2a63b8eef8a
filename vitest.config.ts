import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/support/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Files run in separate forks, in parallel. The run's PostgreSQL and Redis are private to it
    // (global-setup.ts); each file has its own databases and Redis prefix there (support/scope.ts).
    pool: "forks",
    fileParallelism: true,
    maxWorkers: 2,
  },
});
