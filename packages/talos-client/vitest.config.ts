import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    reporters: ["default", ["json", { outputFile: ".vitest-results/results.json" }]],
    // bounds for a hung test, not speed targets: CI runs every package at once on 2 cores
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
