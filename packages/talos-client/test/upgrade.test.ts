import { afterEach, describe, it } from "vitest";
import type { Clock, KubernetesAccess, KubernetesPod } from "../src/index.js";
import { type Cluster, startCluster } from "./helpers.js";

const W1 = "10.9.0.4";

/** Time that passes only when the code under test sleeps. */
function fakeClock(): Clock {
  let now = 0;
  return {
    now: () => now,
    sleep: async (ms) => {
      now += ms;
      await new Promise((r) => setTimeout(r, 5));
    },
  };
}

/** A Kubernetes with one worker node and its pods; a PodDisruptionBudget refuses the first eviction. */
function fakeKubernetes(cluster: Cluster) {
  const log: string[] = [];
  let unschedulable = false;
  let blockedOnce = false;
  let pods: KubernetesPod[] = [
    { namespace: "apps", name: "web-1", nodeName: "w1", ready: true, daemonSet: false, mirror: false },
    {
      namespace: "kube-system",
      name: "kube-proxy-w1",
      nodeName: "w1",
      ready: true,
      daemonSet: true,
      mirror: false,
    },
  ];
  const kube: KubernetesAccess = {
    async listNodes() {
      const ready = cluster.emulator.node("w1").state() === "running";
      return [{ name: "w1", internalIPs: [W1], ready, unschedulable }];
    },
    async listPods({ nodeName }) {
      return pods.filter((p) => nodeName === undefined || p.nodeName === nodeName);
    },
    async desiredReplicas() {
      return undefined;
    },
    async setUnschedulable(node, value) {
      unschedulable = value;
      log.push(
        `${value ? "cordon" : "uncordon"} ${node} (Talos ${cluster.emulator.node("w1").talosVersion()})`,
      );
    },
    async evictPod(namespace, name) {
      if (!blockedOnce) {
        blockedOnce = true;
        log.push(`evict ${namespace}/${name}: blocked by a PodDisruptionBudget`);
        return "blocked";
      }
      pods = pods.filter((p) => !(p.namespace === namespace && p.name === name));
      log.push(`evict ${namespace}/${name}`);
      return "evicted";
    },
  };
  return { kube, log };
}

describe("upgrade on Talos 1.13+", () => {
  let cluster: Cluster | undefined;
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });

  it("cordons, drains through the eviction API, reboots with the mode, waits for the new version, uncordons", async ({
    expect,
  }) => {
    cluster = await startCluster();
    const { kube, log } = fakeKubernetes(cluster);
    const result = await cluster.client.upgrade({
      node: W1,
      image: "factory.talos.dev/metal-installer/abc:v1.14.0",
      rebootMode: "powercycle",
      kubernetes: kube,
      clock: fakeClock(),
    });
    expect(result.steps.map((s) => `${s.step}:${s.status}`)).toEqual([
      "pull:done",
      "install:done",
      "cordon:done",
      "drain:done",
      "reboot:done",
      "wait:done",
      "uncordon:done",
    ]);
    expect(result.steps.find((s) => s.step === "wait")?.detail).toBe(`${W1} is back on v1.14.0`);
    expect(log).toEqual([
      "cordon w1 (Talos v1.13.9)",
      "evict apps/web-1: blocked by a PodDisruptionBudget",
      "evict apps/web-1",
      "uncordon w1 (Talos v1.14.0)",
    ]);
    expect(cluster.emulator.node("w1").lastRebootMode()).toBe("powercycle");
  });

  it("skips the drain with drain: false and still waits for the new version", async ({ expect }) => {
    cluster = await startCluster();
    const { kube, log } = fakeKubernetes(cluster);
    const result = await cluster.client.upgrade({
      node: W1,
      image: "ghcr.io/siderolabs/installer:v1.14.0",
      kubernetes: kube,
      drain: false,
      clock: fakeClock(),
    });
    expect(result.steps.filter((s) => s.status === "skipped").map((s) => s.step)).toEqual([
      "cordon",
      "drain",
      "uncordon",
    ]);
    expect(log).toEqual([]);
    expect(cluster.emulator.node("w1").talosVersion()).toBe("v1.14.0");
    expect(cluster.emulator.node("w1").lastRebootMode()).toBe("default");
  });

  it("uncordons even when the node does not come back in time", async ({ expect }) => {
    cluster = await startCluster();
    const { kube, log } = fakeKubernetes(cluster);
    const emulator = cluster.emulator;
    const upgrading = cluster.client.upgrade({
      node: W1,
      image: "ghcr.io/siderolabs/installer:v1.14.0",
      kubernetes: kube,
      clock: fakeClock(),
      waitTimeoutMs: 10_000,
      // the node never answers again after the reboot
      onProgress: (e) => {
        if (e.type === "upgrade.wait")
          emulator.faults({ node: "w1", methods: ["Version"], unavailable: 1_000_000 });
      },
    });
    await expect(upgrading).rejects.toMatchObject({ code: "DEADLINE_EXCEEDED" });
    expect(log.at(-1)).toMatch(/^uncordon w1/);
  });
});
