// homelab CLI: cold-start wall time of `--version` and `--help` as a ratio to `node -e 0` measured
// in the same run, and `up --simulate` wall time for 1 and 5 nodes (fresh state each time).
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = join(root, "packages/cli/dist/bin.js");
const RUNS = Number(process.env.BENCH_RUNS ?? 15);

function time(args, options = {}) {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { encoding: "utf8", ...options });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  return { ms, status: r.status, stderr: r.stderr, stdout: r.stdout };
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

// round-robin sampling so load from other processes hits every command alike
function benchAll(cases) {
  for (const c of cases) time(c.args); // warm the file cache
  const samples = cases.map(() => []);
  for (let i = 0; i < RUNS; i++) {
    for (const [j, c] of cases.entries()) samples[j].push(time(c.args).ms);
  }
  return cases.map((c, j) => ({ label: c.label, ms: median(samples[j]) }));
}

const rows = benchAll([
  { label: "node -e 0", args: ["-e", "0"] },
  { label: "homelab --version", args: [bin, "--version"] },
  { label: "homelab --help", args: [bin, "--help"] },
]);
const baseline = rows[0];
process.stdout.write(`cold start (median of ${RUNS}, same run):\n`);
for (const r of rows) {
  const ratio = r === baseline ? "" : `  ${(r.ms / baseline.ms).toFixed(2)}x node -e 0 (target <= 1.5x)`;
  process.stdout.write(`  ${r.label.padEnd(20)} ${r.ms.toFixed(1).padStart(7)} ms${ratio}\n`);
}

process.stdout.write("up --simulate (fresh state, in-process lab, wall time):\n");
for (const [nodes, example] of [
  [1, "homelab.yaml"],
  [5, "ha.yaml"],
]) {
  const dir = mkdtempSync(join(tmpdir(), "homelab-bench-"));
  try {
    copyFileSync(join(root, "examples", example), join(dir, "homelab.yaml"));
    const r = time([bin, "up", "--simulate", "--json"], {
      cwd: dir,
      env: { ...process.env, TS_AUTHKEY: "tskey-bench", NO_COLOR: "1" },
    });
    if (r.status === 0) {
      const result = JSON.parse(r.stdout);
      process.stdout.write(
        `  ${String(nodes).padStart(1)} node(s) ${r.ms.toFixed(0).padStart(7)} ms  (${result.changed} changes)\n`,
      );
    } else {
      const error = (() => {
        try {
          return JSON.parse(r.stdout).error.message;
        } catch {
          return r.stderr.trim().split("\n")[0];
        }
      })();
      process.stdout.write(`  ${nodes} node(s)  not measured: ${error}\n`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
