import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "vitest";
import type { Lab } from "../src/internal/lab/lab.js";
import { budget, deployment, fastClock, run, tempDir, upPublishedLab } from "./helpers.js";

/**
 * `homelab upgrade talos --simulate` end to end: a lab in this process, published in the state
 * directory (as `homelab lab` does), brought up with `up --simulate`, then upgraded.
 */

const env = { TS_AUTHKEY: "tskey-upgrade" };
/** Real time, short sleeps: the polls of the roll-out (2 s in talos-client) do not slow the test down. */

let t: { dir: string; cleanup(): Promise<void> };
let lab: Lab;

async function bringUp(example: string): Promise<void> {
  lab = await upPublishedLab(t.dir, example, env);
}

const upgrade = (args: string[], options: { stdinTTY?: boolean } = {}) =>
  run(["upgrade", "talos", ...args], { cwd: t.dir, env, clock: fastClock, ...options });

beforeEach(async () => {
  t = await tempDir();
});

afterEach(async () => {
  await lab?.close();
  await t.cleanup();
});

describe("homelab upgrade talos --simulate", () => {
  it("bumps cluster.talosVersion (comments kept) and rolls the node to the new version, drained and uncordoned", async ({
    expect,
  }) => {
    await bringUp("homelab.yaml");
    const kube = lab.emulators.kube;
    kube.apply(deployment("web", 1));
    const r = await upgrade(["--to", "v1.14.1", "--simulate", "--yes", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const doc = r.json();
    expect(doc.goal).toBe("v1.14.1");
    expect(doc.steps.map((s: { id: string }) => s.id)).toEqual([
      "config:talosVersion",
      "schematic",
      "health:before",
      "etcd-quorum:node1",
      "drain:node1",
      "upgrade:node1",
      "ready:node1",
      "uncordon:node1",
      "health:node1",
    ]);
    expect(doc.steps.find((s: { id: string }) => s.id === "etcd-quorum:node1").detail).toContain(
      "single etcd member",
    );
    expect(doc.steps.find((s: { id: string }) => s.id === "drain:node1").detail).toMatch(
      /\d+ pod\(s\) evicted/,
    );
    expect(lab.emulators.talos.node("node1").talosVersion()).toBe("v1.14.1");
    const yaml = await readFile(join(t.dir, "homelab.yaml"), "utf8");
    expect(yaml).toContain("talosVersion: v1.14.1 # the Talos release every node installs");
    type NodeObject = { spec: { unschedulable?: boolean }; status: { nodeInfo: { osImage: string } } };
    const node = () => kube.get({ apiVersion: "v1", kind: "Node", name: "node1" }) as unknown as NodeObject;
    expect(node().spec.unschedulable).toBeUndefined();
    // the lab's kubelet reports the new OS image on its own tick, as a real kubelet does
    await kube.waitFor(() => node().status.nodeInfo.osImage === "Talos (v1.14.1)", 10_000);

    // run again: nothing to do
    const again = await upgrade(["--simulate", "--yes"]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain("Nothing to do: every node of homelab runs Talos v1.14.1.");
  }, 60_000);

  it("stops when interrupted in the middle of a node, then resumes from that step and says so", async ({
    expect,
  }) => {
    await bringUp("homelab.yaml");
    const controller = new AbortController();
    const node = lab.emulators.talos.node("node1");
    const watch = setInterval(() => {
      if (node.state() === "rebooting") controller.abort();
    }, 5);
    const stopped = await run(["upgrade", "talos", "--to", "v1.14.1", "--simulate", "--yes"], {
      cwd: t.dir,
      env,
      clock: fastClock,
      signal: controller.signal,
    });
    clearInterval(watch);
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toContain(
      'run `homelab upgrade talos --to v1.14.1 --simulate` again to continue from "upgrade node1 to v1.14.1"',
    );
    const journal = JSON.parse(
      await readFile(join(t.dir, ".homelab/homelab/lab/day2/upgrade-talos.json"), "utf8"),
    );
    expect(journal.steps["drain:node1"].status).toBe("done");
    expect(journal.steps["upgrade:node1"].status).toBe("interrupted");

    const resumed = await upgrade(["--to", "v1.14.1", "--simulate", "--yes"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(
      /Resuming the upgrade-talos to v1\.14\.1 started .*: 4 of 8 step\(s\) done earlier are skipped\./,
    );
    expect(resumed.stdout).toContain("✓ upgrade node1 to v1.14.1: already on v1.14.1");
    expect(node.talosVersion()).toBe("v1.14.1");
  }, 60_000);

  it("stops at a drain a PodDisruptionBudget blocks with the node uncordoned and untouched, and continues once it allows", async ({
    expect,
  }) => {
    await bringUp("homelab.yaml");
    const kube = lab.emulators.kube;
    kube.apply(deployment("db", 1));
    kube.apply(budget("db", 1));
    const r = await upgrade(["--to", "v1.14.1", "--simulate", "--yes", "--drain-timeout", "2s"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /upgrade-talos stopped at step 5 of 9 \(cordon and drain node1 \(PodDisruptionBudgets honoured\)\): draining node1 did not finish within 2000 ms: a PodDisruptionBudget blocks default\/db-/,
    );
    expect(r.stderr).toContain(
      "run `homelab upgrade talos --to v1.14.1 --simulate` again: it continues from this step",
    );
    // the cluster is as it was: node1 schedulable, on its version, the pod still running
    const node = kube.get({ apiVersion: "v1", kind: "Node", name: "node1" }) as unknown as {
      spec: { unschedulable?: boolean };
    };
    expect(node.spec.unschedulable).toBeUndefined();
    expect(lab.emulators.talos.node("node1").talosVersion()).toBe("v1.13.9");
    const health = await run(["talos", "health", "--wait-timeout", "10", "--json"], { cwd: t.dir, env });
    expect(health.code, health.stderr).toBe(0);

    // the budget is relaxed: the same command continues from the drain
    kube.delete({ apiVersion: "policy/v1", kind: "PodDisruptionBudget", name: "db", namespace: "default" });
    const again = await upgrade(["--to", "v1.14.1", "--simulate", "--yes"]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain("3 of 8 step(s) done earlier are skipped");
    expect(lab.emulators.talos.node("node1").talosVersion()).toBe("v1.14.1");
  }, 60_000);

  it("refuses a jump that skips a minor line, changing nothing", async ({ expect }) => {
    await bringUp("homelab.yaml");
    const before = await readFile(join(t.dir, "homelab.yaml"), "utf8");
    const r = await upgrade(["--to", "v1.15.0", "--simulate", "--yes"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      "going to v1.15.0 skips the 1.14 line, and Talos upgrades one minor line at a time",
    );
    expect(r.stderr).toContain("upgrade to the latest v1.14.x first");
    expect(await readFile(join(t.dir, "homelab.yaml"), "utf8")).toBe(before);
    expect(lab.emulators.talos.node("node1").talosVersion()).toBe("v1.13.9");
  }, 60_000);

  it("needs --yes without a terminal (real runs), changing nothing", async ({ expect }) => {
    await bringUp("homelab.yaml");
    const r = await upgrade(["--to", "v1.14.1"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("NEEDS_CONFIRMATION");
    expect(lab.emulators.talos.node("node1").talosVersion()).toBe("v1.13.9");
  }, 60_000);
});
