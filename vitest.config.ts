import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/support/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Servers, Redis and PostgreSQL are shared per file; files run in separate forks.
    pool: "forks",
    fileParallelism: true,
    maxWorkers: 2,
  },
});
