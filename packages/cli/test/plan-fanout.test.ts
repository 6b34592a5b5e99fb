import { copyFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, it } from "vitest";
import { loadConfig } from "../src/internal/config/load.js";
import { type Lab, startLab } from "../src/internal/lab/lab.js";
import { publishLab } from "../src/internal/lab/running.js";
import { EXAMPLES, run, tempDir } from "./helpers.js";

/**
 * `plan` against a converged lab of examples/ha.yaml (3 control planes, 2 workers), the lab in this
 * process so the test sees every call the nodes get.
 */

const env = { TS_AUTHKEY: "tskey-fanout" };
let t: { dir: string; cleanup(): Promise<void> };
let lab: Lab;

beforeAll(async () => {
  t = await tempDir();
  await copyFile(join(EXAMPLES, "ha.yaml"), join(t.dir, "homelab.yaml"));
  const { config } = await loadConfig("homelab.yaml", { cwd: t.dir, env });
  lab = await startLab({ config });
  await publishLab(join(t.dir, ".homelab", config.cluster.name, "lab"), lab.info);
  const up = await run(["up", "--simulate", "--json"], { cwd: t.dir, env });
  if (up.code !== 0) throw new Error(`up failed: ${up.stdout}${up.stderr}`);
}, 60_000);

afterAll(async () => {
  await lab?.close();
  await t?.cleanup();
});

const MACHINE_CONFIG_GET = "/cosi.resource.State/Get";

describe("plan against a converged multi-node lab", () => {
  it("reads every node's live config through the control planes, not one connection per node", async ({
    expect,
  }) => {
    const talos = lab.emulators.talos;
    const before = talos.callLog.length;
    const r = await run(["plan", "--simulate", "--json"], { cwd: t.dir, env });
    expect(r.json()).toMatchObject({ changes: 0, failures: 0 });
    expect(r.code).toBe(0);
    const reads = talos.callLog.slice(before).filter((e) => e.method === MACHINE_CONFIG_GET);
    const controlPlanes = ["cp1", "cp2", "cp3"];
    // each node's config read once, always through a control plane's endpoint (apid routes by `node`)
    expect(reads.map((e) => e.node).sort()).toEqual(["cp1", "cp2", "cp3", "worker1", "worker2"]);
    expect(reads.every((e) => controlPlanes.includes(e.endpoint) && e.code === 0)).toBe(true);
    expect(reads.filter((e) => e.node.startsWith("worker")).every((e) => e.proxied)).toBe(true);
  });

  it("names a powered-off worker as a plan error with the reason, the other nodes planned", async ({
    expect,
  }) => {
    const worker = lab.emulators.talos.node("worker2");
    worker.stop();
    try {
      const r = await run(["plan", "--simulate", "--json", "--node-timeout", "1s"], { cwd: t.dir, env });
      expect(r.code).toBe(1);
      const doc = r.json();
      expect(doc).toMatchObject({ changes: 0, failures: 1 });
      const configs = doc.items.filter((p: { step: string }) => p.step === "machine-config");
      expect(configs.map((p: { subject: string; action: string }) => [p.subject, p.action])).toEqual([
        ["cp1", "none"],
        ["cp2", "none"],
        ["cp3", "none"],
        ["worker1", "none"],
        ["worker2", "error"],
      ]);
      const failed = configs.find((p: { subject: string }) => p.subject === "worker2");
      expect(failed.error.code).toBe("UNREACHABLE");
      expect(failed.error.message).toMatch(/^worker2 \(192\.168\.50\.22\) did not answer on the Talos API/);
      // each node's progress as an event
      const events = doc.events.filter((e: { step: string }) => e.step === "machine-config");
      expect(events.map((e: { id: string; status: string }) => `${e.id} ${e.status}`).sort()).toEqual([
        "config:cp1 planned",
        "config:cp2 planned",
        "config:cp3 planned",
        "config:worker1 planned",
        "config:worker2 failed",
      ]);

      // on a terminal, the node's own line as soon as it is known
      const text = await run(["plan", "--simulate", "--node-timeout", "1s"], { cwd: t.dir, env });
      expect(text.code).toBe(1);
      expect(text.stderr).toMatch(/^✗ worker2: cannot plan: \[UNREACHABLE\] worker2 \(192\.168\.50\.22\)/m);
      expect(text.stdout).toMatch(/^! machine-config +worker2: cannot plan: \[UNREACHABLE\]/m);
    } finally {
      worker.start();
    }
  });
});
