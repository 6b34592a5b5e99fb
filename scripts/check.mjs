// The whole test suite: lint, generated-code drift, build, typecheck, tests (the cli package's
// include the offline infrastructure check that `pnpm check:infra` runs alone; tools/infra-check
// holds the checker and its own tests), packaging gates.
// Prints each package's counts and one closing line "N passed, N failed" summed over every
// package's Vitest JSON report; exits non-zero on any failure.
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { root, runBin } from "./pnpm.mjs";

// Every workspace package with tests: the published ones under packages/ and the dev tools under tools/.
const packages = ["packages", "tools"].flatMap((group) =>
  existsSync(join(root, group))
    ? readdirSync(join(root, group))
        .filter((name) => existsSync(join(root, group, name, "package.json")))
        .map((name) => join(group, name))
    : [],
);
for (const name of packages) {
  rmSync(join(root, name, ".vitest-results"), { recursive: true, force: true });
}

const steps = [
  ["lint", "biome", ["ci", "--error-on-warnings", "--colors=off", "."]],
  ["generate + drift check", "pnpm", ["run", "generate:check"]],
  ["build", "turbo", ["run", "build"]],
  ["typecheck", "turbo", ["run", "typecheck"]],
  ["test", "turbo", ["run", "test", "--continue"]],
  ["check:package", "turbo", ["run", "check:package"]],
];
const failedSteps = [];
for (const [label, bin, args] of steps) {
  process.stderr.write(`\n=== ${label} ===\n`);
  const result = runBin(bin, args, { stdio: "inherit", env: { NO_COLOR: "1", FORCE_COLOR: "0" } });
  if (result.status !== 0) failedSteps.push(label);
}

let passed = 0;
let failed = 0;
let skipped = 0;
for (const name of packages) {
  const file = join(root, name, ".vitest-results", "results.json");
  if (!existsSync(file)) {
    process.stdout.write(`${name}: no test report (its test run crashed or did not start)\n`);
    failed += 1;
    continue;
  }
  const report = JSON.parse(readFileSync(file, "utf8"));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests + (report.numTodoTests ?? 0);
  process.stdout.write(`${name}: ${report.numPassedTests} passed, ${report.numFailedTests} failed\n`);
}
if (failedSteps.length > 0) process.stdout.write(`failed steps: ${failedSteps.join(", ")}\n`);
process.stdout.write(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}\n`);
process.exitCode = failed > 0 || failedSteps.length > 0 ? 1 : 0;
