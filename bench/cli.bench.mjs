// homelab CLI, every figure as a ratio measured in this run:
// - cold start of `--version` and `--help` against `node -e 0` (targets <= 1.5x and <= 2x);
// - a no-op `up --simulate` and `plan --simulate` against a running 1-node lab, against one
//   `homelab talos version` call on the same lab (target <= 3x);
// - the same no-op `up` against a running 50-node lab, against the 1-node time (target <= 1.5x; both
//   labs run at once and are sampled round-robin);
// - the CPU an idle 50-node `homelab lab` uses (target < 1% of a core).
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = join(root, "packages/cli/dist/bin.js");
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const LAB_RUNS = Number(process.env.BENCH_LAB_RUNS ?? 7);
const env = { ...process.env, TS_AUTHKEY: "tskey-bench", NO_COLOR: "1" };

function time(args, options = {}) {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { encoding: "utf8", env, ...options });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  return { ms, status: r.status, stderr: r.stderr, stdout: r.stdout };
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

// round-robin sampling so load from other processes hits every command alike
function benchAll(cases, runs) {
  for (const c of cases) {
    const r = time(c.args, c.options); // warm the file cache
    if (c.expect !== undefined && !c.expect.includes(r.status))
      throw new Error(`${c.label}: exit ${r.status}\n${r.stderr}`);
  }
  const samples = cases.map(() => []);
  for (let i = 0; i < runs; i++) {
    for (const [j, c] of cases.entries()) samples[j].push(time(c.args, c.options).ms);
  }
  return cases.map((c, j) => ({ label: c.label, ms: median(samples[j]) }));
}

const ratio = (a, b) => (a / b).toFixed(2);
const row = (label, ms, note = "") =>
  process.stdout.write(`  ${label.padEnd(34)} ${ms.toFixed(1).padStart(8)} ms${note}\n`);

const cold = benchAll(
  [
    { label: "node -e 0", args: ["-e", "0"] },
    { label: "homelab --version", args: [bin, "--version"] },
    { label: "homelab --help", args: [bin, "--help"] },
  ],
  RUNS,
);
process.stdout.write(`cold start (median of ${RUNS}, same run):\n`);
row(cold[0].label, cold[0].ms);
row(cold[1].label, cold[1].ms, `  ${ratio(cold[1].ms, cold[0].ms)}x node -e 0 (target <= 1.5x)`);
row(cold[2].label, cold[2].ms, `  ${ratio(cold[2].ms, cold[0].ms)}x node -e 0 (target <= 2x)`);

/** A homelab.yaml with `count` nodes: ha.yaml's three control planes and generated workers. */
function manyNodes(count) {
  const text = readFileSync(join(root, "examples", "ha.yaml"), "utf8");
  const workers = [];
  for (let i = 1; i <= count - 3; i++) {
    workers.push(
      `  - name: w${i}`,
      "    role: worker",
      `    address: 192.168.51.${i}`,
      "    installDisk: /dev/sda",
      "    interfaces:",
      `      - { name: eno1, addresses: [192.168.51.${i}/24], gateway: 192.168.51.254 }`,
    );
  }
  // keep cp1..cp3, replace worker1/worker2 with the generated workers
  const start = text.indexOf("  - name: worker1");
  const end = text.indexOf("tunnel:\n");
  return `${text.slice(0, start)}${workers.join("\n")}\n${text.slice(end)}`;
}

/** Starts `homelab lab --json` in `dir` and resolves once its document is out (the lab has run `up`). */
function startLab(dir) {
  const child = spawn(process.execPath, [bin, "lab", "--json"], {
    cwd: dir,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stderr.on("data", (c) => {
    err += c;
  });
  return new Promise((resolve, reject) => {
    child.on("exit", (code) => reject(new Error(`lab exited ${code}: ${err.slice(-2000)}`)));
    child.stdout.on("data", (c) => {
      out += c;
      try {
        resolve({ child, doc: JSON.parse(out) });
      } catch {
        // not complete yet
      }
    });
  });
}

function stopLab(child) {
  return new Promise((resolve) => {
    child.once("exit", resolve);
    child.kill("SIGINT");
  });
}

/** CPU time (user + system) of a process, in ms, from /proc. */
function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / 100;
}

/** Starts a lab of `nodes` nodes in a temp directory; the cases that run against it. */
async function startLabCase(nodes, config) {
  const dir = mkdtempSync(join(tmpdir(), "homelab-bench-"));
  writeFileSync(join(dir, "homelab.yaml"), config);
  const started = process.hrtime.bigint();
  const { child, doc } = await startLab(dir);
  const upMs = Number(process.hrtime.bigint() - started) / 1e6;
  const cp = doc.lab.nodes.find((n) => n.role === "controlplane");
  const talosconfig = doc.files.talosconfig;
  const cwd = { cwd: dir };
  const cases = [
    {
      label: `talos version (${nodes} node lab)`,
      args: [bin, "talos", "version", "--talosconfig", talosconfig, "--nodes", cp.address, "--json"],
      expect: [0],
      options: cwd,
    },
    {
      label: `no-op up --simulate (${nodes})`,
      args: [bin, "up", "--simulate", "--json"],
      expect: [0],
      options: cwd,
    },
    {
      label: `plan --simulate (${nodes})`,
      args: [bin, "plan", "--simulate", "--json"],
      expect: [0],
      options: cwd,
    },
  ];
  return { dir, child, upMs, cases };
}

// Both labs run at once and their cases are sampled round-robin, so that load from other processes
// (this machine is shared) hits the 1-node and the 50-node figures alike, as for the cold starts.
const oneLab = await startLabCase(1, readFileSync(join(root, "examples", "homelab.yaml"), "utf8"));
const fiftyLab = await startLabCase(50, manyNodes(50));
let one;
let fifty;
try {
  const rows = benchAll([...oneLab.cases, ...fiftyLab.cases], LAB_RUNS);
  // idle: nothing talks to either lab for 5 s
  await new Promise((r) => setTimeout(r, 1000));
  const labs = [oneLab, fiftyLab];
  const cpu0 = labs.map((l) => cpuMs(l.child.pid));
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, 5000));
  const idle = labs.map((l, i) => (cpuMs(l.child.pid) - (cpu0[i] ?? 0)) / (Date.now() - t0));
  one = { rows: rows.slice(0, 3), upMs: oneLab.upMs, idle: idle[0] };
  fifty = { rows: rows.slice(3), upMs: fiftyLab.upMs, idle: idle[1] };
} finally {
  for (const lab of [oneLab, fiftyLab]) {
    await stopLab(lab.child);
    rmSync(lab.dir, { recursive: true, force: true });
  }
}
process.stdout.write(`running lab (median of ${LAB_RUNS}, same run):\n`);
const [tv1, up1, plan1] = one.rows;
const [tv50, up50, plan50] = fifty.rows;
row(tv1.label, tv1.ms);
row(up1.label, up1.ms, `  ${ratio(up1.ms, tv1.ms)}x talos version (target <= 3x)`);
row(plan1.label, plan1.ms, `  ${ratio(plan1.ms, tv1.ms)}x talos version (target <= 3x)`);
row(tv50.label, tv50.ms);
row(up50.label, up50.ms, `  ${ratio(up50.ms, up1.ms)}x the 1-node no-op up (target <= 1.5x)`);
row(plan50.label, plan50.ms, `  ${ratio(plan50.ms, plan1.ms)}x the 1-node plan (target <= 1.5x)`);
process.stdout.write("lab start including the first up (wall time):\n");
row("1 node", one.upMs);
row("50 nodes", fifty.upMs);
process.stdout.write("idle `homelab lab` (CPU over 5 s):\n");
row("1 node", one.idle * 1000, `  ${(one.idle * 100).toFixed(2)}% of a core`);
row("50 nodes", fifty.idle * 1000, `  ${(fifty.idle * 100).toFixed(2)}% of a core (target < 1%)`);
