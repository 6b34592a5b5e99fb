import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    reporters: ["default", ["json", { outputFile: ".vitest-results/results.json" }]],
    // Limits against hangs, not speed targets: the full check runs every package at once on a
    // shared machine, where a 150-route reconcile and the after-each exchange validation slow down.
    testTimeout: 60_000,
    hookTimeout: 30_000,
    fileParallelism: false,
  },
});
