import { defineConfig } from "vitest/config";

// Tests talk to a real PostgreSQL prepared by scripts/test.ts (TEST_DATABASE_URL
// names a template database each test file clones). Files run in parallel
// forks; two cores, so keep it to two.
export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
