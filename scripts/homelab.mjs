// `pnpm homelab ...`: builds the CLI and what it depends on (a turbo cache hit when nothing
// changed; output shown only on failure), then runs it with the given arguments.
import { spawnSync } from "node:child_process";
import { utimesSync } from "node:fs";
import { root, runBin } from "./pnpm.mjs";

const build = runBin(
  "turbo",
  ["run", "build", "--filter=@talos-homelab/cli...", "--output-logs=errors-only"],
  {
    encoding: "utf8",
  },
);
if (build.status !== 0) {
  process.stderr.write(build.stdout + build.stderr);
  process.stderr.write("homelab: building the CLI failed (see above)\n");
  process.exit(1);
}
const cli = `${root}packages/cli/dist/bin.js`;
// bin/homelab rebuilds when a source file is newer than this file; a turbo cache hit may restore an
// older copy, so mark the build as current
const now = new Date();
utimesSync(cli, now, now);
const run = spawnSync(process.execPath, [cli, ...process.argv.slice(2)], {
  stdio: "inherit",
});
process.exitCode = run.status ?? (run.signal === "SIGINT" ? 130 : 1);
