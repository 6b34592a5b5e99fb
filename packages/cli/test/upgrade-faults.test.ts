import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "vitest";
import type { Lab } from "../src/internal/lab/lab.js";
import { budget, deployment, fastClock, run, tempDir, upPublishedLab } from "./helpers.js";

/**
 * A node that does not come back in the middle of a roll-out on the HA lab (3 control planes, 2
 * workers): the roll-out stops there with the other nodes untouched and the cluster serving, and the
 * same command continues once the node is back.
 */

const env = { TS_AUTHKEY: "tskey-faults" };
let t: { dir: string; cleanup(): Promise<void> };
let lab: Lab;

beforeEach(async () => {
  t = await tempDir();
  lab = await upPublishedLab(t.dir, "ha.yaml", env);
}, 90_000);

afterEach(async () => {
  await lab?.close();
  await t.cleanup();
});

const cli = (args: string[]) => run(args, { cwd: t.dir, env, clock: fastClock });

interface Pod {
  metadata: { name: string; labels?: Record<string, string> };
  spec: { nodeName?: string };
  status: { phase?: string; conditions?: { type: string; status: string }[] };
}

describe("a node that does not come back", () => {
  it("stops upgrade talos at that node with etcd quorum kept and the workloads running elsewhere; the rerun finishes", async ({
    expect,
  }) => {
    const kube = lab.emulators.kube;
    kube.apply(deployment("web", 2));
    kube.apply(budget("web", 1));
    const cp2 = lab.emulators.talos.node("cp2");
    cp2.hangOnNextBoot();
    const r = await cli([
      "upgrade",
      "talos",
      "--to",
      "v1.14.1",
      "--simulate",
      "--yes",
      // long enough for a node that does come back on a loaded machine
      "--node-timeout",
      "10s",
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/upgrade-talos stopped at step 12 of 31 \(upgrade cp2 to v1\.14\.1\): /);
    expect(r.stderr).toContain(
      "run `homelab upgrade talos --to v1.14.1 --simulate` again: it continues from this step",
    );
    const talos = lab.emulators.talos;
    expect(["cp1", "cp2", "cp3", "worker1", "worker2"].map((n) => talos.node(n).talosVersion())).toEqual([
      "v1.14.1",
      "v1.13.9",
      "v1.13.9",
      "v1.13.9",
      "v1.13.9",
    ]);
    expect(cp2.state()).toBe("down");
    // etcd keeps quorum: a member that stayed up answers for the cluster
    const members = await cli(["talos", "etcd", "members", "--nodes", "192.168.50.11", "--json"]);
    expect(members.code, members.stderr).toBe(0);
    // the workloads run, Ready, on nodes that are up; only cp2 is cordoned (it was drained)
    const pods = kube.list({ apiVersion: "v1", kind: "Pod", namespace: "default" }) as unknown as Pod[];
    const web = pods.filter((p) => p.metadata.labels?.app === "web");
    expect(web).toHaveLength(2);
    for (const p of web) {
      expect(["worker1", "worker2"]).toContain(p.spec.nodeName);
      expect(p.status.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");
    }
    const nodes = kube.list({ apiVersion: "v1", kind: "Node" }) as unknown as {
      metadata: { name: string };
      spec: { unschedulable?: boolean };
    }[];
    expect(nodes.filter((n) => n.spec.unschedulable).map((n) => n.metadata.name)).toEqual(["cp2"]);

    // cp2 comes back (on the new version, its install had finished): the same command continues
    cp2.start();
    const again = await cli(["upgrade", "talos", "--to", "v1.14.1", "--simulate", "--yes", "--json"]);
    expect(again.code, again.stderr).toBe(0);
    // cp1 is done and drops out of the plan; the steps of cp2 done before the stop are skipped
    expect(again.json().resumed).toBe(4);
    expect(again.json().steps.find((s: { id: string }) => s.id === "upgrade:cp2").detail).toBe(
      "already on v1.14.1",
    );
    expect(["cp1", "cp2", "cp3", "worker1", "worker2"].map((n) => talos.node(n).talosVersion())).toEqual(
      Array(5).fill("v1.14.1"),
    );
    const after = kube.list({ apiVersion: "v1", kind: "Node" }) as unknown as {
      spec: { unschedulable?: boolean };
    }[];
    expect(after.every((n) => n.spec.unschedulable !== true)).toBe(true);
  }, 120_000);

  it("does not take a control plane down when etcd would lose quorum without it", async ({ expect }) => {
    // the roll-out started while the cluster was healthy (its first gates are in the journal), then
    // cp2's etcd went unhealthy: cp1 going down now would leave one healthy member of three
    const dir = join(t.dir, ".homelab/homelab-ha/lab/day2");
    await mkdir(dir, { recursive: true });
    const at = new Date().toISOString();
    await writeFile(
      join(dir, "upgrade-talos.json"),
      JSON.stringify({
        version: 1,
        operation: "upgrade-talos",
        goal: "v1.14.1",
        startedAt: at,
        updatedAt: at,
        steps: {
          schematic: { status: "done", at, detail: "registered" },
          "health:before": { status: "done", at, detail: "healthy" },
        },
      }),
    );
    lab.emulators.talos.node("cp2").setService("etcd", "Running", false);
    const r = await cli(["upgrade", "talos", "--to", "v1.14.1", "--simulate", "--yes"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "(etcd keeps quorum while cp1 is down): etcd would lose quorum: 3 members need 2, and without cp1 only 1 are healthy (not healthy: cp2)",
    );
    expect(r.stderr).toContain("bring cp2 back first");
    expect(lab.emulators.talos.node("cp1").talosVersion()).toBe("v1.13.9");
    const cp1 = lab.emulators.kube.get({ apiVersion: "v1", kind: "Node", name: "cp1" }) as unknown as {
      spec: { unschedulable?: boolean };
    };
    expect(cp1.spec.unschedulable).toBeUndefined();
  }, 60_000);

  it("stops upgrade kubernetes at the kubelet of a worker that went down, the nodes after it untouched", async ({
    expect,
  }) => {
    const worker1 = lab.emulators.talos.node("worker1");
    const kube = lab.emulators.kube;
    // worker1 loses power once the control planes' kubelets are done
    const watch = setInterval(() => {
      const cp3 = kube.get({ apiVersion: "v1", kind: "Node", name: "cp3" }) as unknown as
        | { status: { nodeInfo: { kubeletVersion: string } } }
        | undefined;
      if (cp3?.status.nodeInfo.kubeletVersion === "v1.36.0" && worker1.state() === "running") worker1.stop();
    }, 5);
    const r = await cli([
      "upgrade",
      "kubernetes",
      "--to",
      "1.36.0",
      "--simulate",
      "--yes",
      "--node-timeout",
      "10s",
      "--health-timeout",
      "10s",
    ]);
    clearInterval(watch);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /upgrade-kubernetes stopped at step \d+ of 27 \((the cluster is healthy after cp3's kubelet|kubelet 1\.35\.0 -> 1\.36\.0 on worker1)\)/,
    );
    const kubelet = (name: string) =>
      (
        kube.get({ apiVersion: "v1", kind: "Node", name }) as unknown as {
          status: { nodeInfo: { kubeletVersion: string } };
        }
      ).status.nodeInfo.kubeletVersion;
    expect(["cp1", "cp2", "cp3"].map(kubelet)).toEqual(["v1.36.0", "v1.36.0", "v1.36.0"]);
    expect(kubelet("worker2")).toBe("v1.35.0");
    const version = (await (await fetch(`${lab.info.kube.url}/version`)).json()) as { gitVersion: string };
    expect(version.gitVersion).toBe("v1.36.0");

    worker1.start();
    const again = await cli(["upgrade", "kubernetes", "--to", "1.36.0", "--simulate", "--yes"]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain("Resuming the upgrade-kubernetes to 1.36.0");
    expect(["worker1", "worker2"].map(kubelet)).toEqual(["v1.36.0", "v1.36.0"]);
  }, 120_000);
});
