// `pnpm bench`: runs every bench/*.bench.mjs (or the ones named on the command line) in turn,
// after building the packages they import. Benchmarks print their own figures and ratios; they
// are never part of the test run.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { root, runBin } from "../scripts/pnpm.mjs";

const build = runBin("turbo", ["run", "build", "--output-logs=errors-only"], { stdio: "inherit" });
if (build.status !== 0) process.exit(1);
const dir = join(root, "bench");
const wanted = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".bench.mjs"))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.includes(w)))
  .sort();
for (const file of files) {
  process.stdout.write(`\n## ${file}\n`);
  await import(pathToFileURL(join(dir, file)).href);
}
