import { afterAll, beforeAll, describe, it } from "vitest";
import { type Clock, checkHealth, type KubernetesAccess, type KubernetesNode } from "../src/index.js";
import { type Cluster, startCluster } from "./helpers.js";

const [CP1, CP2] = ["10.9.0.2", "10.9.0.3"] as const;
const CP = [CP1, CP2];
const WORKERS = ["10.9.0.4"];

/** Kubernetes as the injected interface sees it, with knobs for the tests. */
function fakeKubernetes(addresses: string[]) {
  const nodes: KubernetesNode[] = addresses.map((ip, i) => ({
    name: `node-${i}`,
    internalIPs: [ip],
    ready: true,
    unschedulable: false,
  }));
  const state = { nodes, coreDnsReady: 2 };
  const kube: KubernetesAccess = {
    async listNodes() {
      return state.nodes.map((n) => ({ ...n }));
    },
    async listPods({ labelSelector }) {
      if (labelSelector === "k8s-app=kube-dns") {
        return [0, 1].map((i) => ({
          namespace: "kube-system",
          name: `coredns-${i}`,
          nodeName: "node-0",
          ready: i < state.coreDnsReady,
          daemonSet: false,
          mirror: false,
        }));
      }
      return state.nodes.map((n) => ({
        namespace: "kube-system",
        name: `kube-proxy-${n.name}`,
        nodeName: n.name,
        ready: true,
        daemonSet: true,
        mirror: false,
      }));
    },
    async desiredReplicas(kind) {
      return kind === "Deployment" ? 2 : state.nodes.length;
    },
    async setUnschedulable() {},
    async evictPod() {
      return "evicted";
    },
  };
  return { kube, state };
}

describe("checkHealth", () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster();
  });
  afterAll(async () => {
    await cluster.close();
  });

  it("runs the checks of talosctl health and passes on a healthy cluster", async ({ expect }) => {
    const { kube } = fakeKubernetes([...CP, ...WORKERS]);
    const report = await checkHealth(cluster.client, {
      controlPlaneNodes: CP,
      workerNodes: WORKERS,
      kubernetes: kube,
    });
    expect(report.problems).toEqual([]);
    expect(report.checks.map((c) => c.name)).toEqual([
      "etcd to be healthy",
      "etcd members to be consistent across nodes",
      "etcd members to be control plane nodes",
      "apid to be ready",
      "no diagnostics",
      "all node services to be running and healthy",
      "all nodes to finish boot sequence",
      "all control plane static pods to be running",
      "all k8s nodes to report",
      "all k8s nodes to report ready",
      "kube-proxy to report ready",
      "coredns to report ready",
      "all k8s nodes to report schedulable",
    ]);
    expect(report.checks.every((c) => c.ok && !c.skipped)).toBe(true);
  });

  it("reports diagnostics, missing and unready Kubernetes nodes and CoreDNS", async ({ expect }) => {
    const { kube, state } = fakeKubernetes([...CP]);
    state.nodes[0]!.ready = false;
    state.coreDnsReady = 1;
    cluster.emulator
      .node("w1")
      .setDiagnostic("address-overlap", "host and Kubernetes pod/service CIDR addresses overlap");
    try {
      const report = await checkHealth(cluster.client, {
        controlPlaneNodes: CP,
        workerNodes: WORKERS,
        kubernetes: kube,
      });
      const failed = Object.fromEntries(report.checks.filter((c) => !c.ok).map((c) => [c.name, c.problems]));
      expect(failed).toEqual({
        "no diagnostics": ["10.9.0.4: host and Kubernetes pod/service CIDR addresses overlap"],
        "all k8s nodes to report": ["Kubernetes nodes missing for 10.9.0.4"],
        "all k8s nodes to report ready": ["some nodes are not ready: node-0"],
        "coredns to report ready": ["expected 2 ready pods for k8s-app=kube-dns, got 1"],
      });
    } finally {
      cluster.emulator.node("w1").setDiagnostic("address-overlap", undefined);
    }
  });

  it("skips the Kubernetes checks without access and says so", async ({ expect }) => {
    const report = await checkHealth(cluster.client, { controlPlaneNodes: CP, workerNodes: WORKERS });
    expect(report.healthy).toBe(true);
    expect(report.checks.filter((c) => c.skipped).map((c) => c.name)).toContain(
      "all k8s nodes to report ready",
    );
  });

  it("finds etcd members inconsistent with the control planes", async ({ expect }) => {
    const members = await cluster.client.etcdMemberList({ node: CP1 });
    const cp2 = members.find((m) => m.hostname === "cp2")!;
    await cluster.client.etcdRemoveMemberByID({ node: CP1, memberId: cp2.id });
    const report = await checkHealth(cluster.client, { controlPlaneNodes: CP, workerNodes: WORKERS });
    const etcd = report.checks.find((c) => c.name === "etcd members to be consistent across nodes");
    expect(etcd?.problems).toContain("10.9.0.2: expected to have 2 members, got 1");
    expect(report.checks.find((c) => c.name === "etcd to be healthy")?.ok).toBe(false);
  });

  it("times out on the injected clock, naming what is missing", async ({ expect }) => {
    let now = 0;
    const clock: Clock = {
      now: () => now,
      sleep: async (ms) => {
        now += ms;
      },
    };
    await expect(
      cluster.client.waitForHealthy({
        controlPlaneNodes: CP,
        workerNodes: [...WORKERS, "10.9.0.99"],
        timeoutMs: 5_000,
        clock,
      }),
    ).rejects.toMatchObject({
      code: "HEALTH_TIMEOUT",
      details: { missing: expect.arrayContaining([expect.stringMatching(/^10\.9\.0\.99: not answering/)]) },
    });
    expect(now).toBeGreaterThanOrEqual(4_000);
  });
});
