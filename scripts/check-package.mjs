// `check:package` of one package (run in its directory): packs it the way `pnpm publish` does
// (workspace: and catalog: ranges replaced by real versions), then lints the tarball itself with
// publint --strict and checks its types with attw (ESM only), so the gate sees exactly what a
// consumer would install. Prints the tarball's size and file count.
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runBin } from "./pnpm.mjs";

const cwd = process.cwd();
const out = mkdtempSync(join(tmpdir(), "homelab-pack-"));
try {
  const steps = [
    ["pnpm", ["pack", "--pack-destination", out]],
    ["publint", ["run", "--strict", "--pack", "false"]],
    ["attw", ["--profile", "esm-only", "--quiet"]],
  ];
  for (const [bin, args] of steps) {
    const tarball = readdirSync(out).find((f) => f.endsWith(".tgz"));
    const full = bin === "pnpm" ? args : [...args, join(out, tarball ?? "missing.tgz")];
    const result = runBin(bin, full, {
      cwd,
      stdio: ["ignore", bin === "pnpm" ? "ignore" : "inherit", "inherit"],
    });
    if (result.status !== 0) {
      process.stderr.write(`check:package: ${bin} failed in ${cwd}\n`);
      process.exit(result.status ?? 1);
    }
    if (bin === "pnpm" && tarball === undefined) {
      const packed = readdirSync(out).find((f) => f.endsWith(".tgz"));
      if (packed)
        process.stdout.write(
          `packed ${packed} (${Math.round(statSync(join(out, packed)).size / 1024)} KiB)\n`,
        );
    }
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
