import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    reporters: ["default", ["json", { outputFile: ".vitest-results/results.json" }]],
    testTimeout: 60_000,
    // a beforeAll that bootstraps Argo CD into the emulator takes a few seconds alone and far more
    // while turbo runs every package's tests at once on a 2-core CI machine
    hookTimeout: 60_000,
  },
});
