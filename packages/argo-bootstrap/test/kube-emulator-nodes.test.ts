import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, it } from "vitest";
import { createKubeEmulator, type KubeEmulator } from "../src/testing/index.js";
import { run } from "./helpers.js";

let kube: KubeEmulator;
let dir: string;
let kubectl: (...args: string[]) => Promise<{ code: number; stdout: string; stderr: string }>;

interface Pod {
  metadata: { name: string; namespace: string; labels?: Record<string, string> };
  spec: { nodeName?: string };
  status: { phase: string; conditions?: { type: string; status: string }[] };
}

// biome-ignore lint/suspicious/noExplicitAny: the test reads objects of several shapes from the store
const get = (ref: { apiVersion: string; kind: string; name: string; namespace?: string }): any =>
  kube.get(ref);

const pods = (selector: string): Pod[] =>
  kube
    .list({ apiVersion: "v1", kind: "Pod", namespace: "shop" })
    .filter((p) => (p.metadata.labels as Record<string, string> | undefined)?.app === selector) as never;
const isReady = (p: Pod) =>
  p.status.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true;

beforeAll(async () => {
  kube = await createKubeEmulator({ stepMs: 10 });
  dir = mkdtempSync(join(tmpdir(), "kube-nodes-"));
  writeFileSync(join(dir, "kubeconfig"), kube.kubeconfig, { mode: 0o600 });
  kubectl = (...args) =>
    run("kubectl", ["--kubeconfig", join(dir, "kubeconfig"), "--cache-dir", join(dir, "cache"), ...args]);
  kube.nodes.register({
    name: "cp1",
    internalIP: "10.0.0.2",
    kubeletVersion: "v1.34.1",
    controlPlane: true,
    taints: [{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }],
  });
  kube.nodes.register({ name: "w1", internalIP: "10.0.0.3", kubeletVersion: "v1.34.1" });
  kube.nodes.register({ name: "w2", internalIP: "10.0.0.4", kubeletVersion: "v1.34.1" });
  kube.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: "shop" } });
  kube.apply({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "shop" },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: "web" } },
      template: {
        metadata: { labels: { app: "web" } },
        spec: { containers: [{ name: "web", image: "nginx" }] },
      },
    },
  });
  kube.apply({
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: { name: "web", namespace: "shop" },
    spec: { minAvailable: 1, selector: { matchLabels: { app: "web" } } },
  });
  kube.apply({
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name: "agent", namespace: "shop" },
    spec: {
      selector: { matchLabels: { app: "agent" } },
      template: {
        metadata: { labels: { app: "agent" } },
        spec: { tolerations: [{ operator: "Exists" }], containers: [{ name: "a", image: "agent" }] },
      },
    },
  });
  await kube.waitFor(
    () => pods("web").filter(isReady).length === 2 && pods("agent").filter(isReady).length === 3,
  );
});

afterAll(async () => {
  await kube.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("createKubeEmulator: nodes, pods and evictions", () => {
  it("lists the registered nodes Ready with their kubelet version and InternalIP", async ({ expect }) => {
    const result = await kubectl("get", "nodes", "-o", "json");
    expect(result.code, result.stderr).toBe(0);
    const items = JSON.parse(result.stdout).items as { metadata: { name: string } }[];
    const w1 = items.find((n) => n.metadata.name === "w1") as unknown as {
      status: {
        nodeInfo: { kubeletVersion: string };
        addresses: { type: string; address: string }[];
        conditions: { type: string; status: string }[];
      };
    };
    expect(w1.status.nodeInfo.kubeletVersion).toBe("v1.34.1");
    expect(w1.status.addresses).toContainEqual({ type: "InternalIP", address: "10.0.0.3" });
    expect(w1.status.conditions.find((c) => c.type === "Ready")?.status).toBe("True");
  });

  it("spreads a Deployment's pods over the schedulable nodes, never onto the tainted control plane", ({
    expect,
  }) => {
    expect(
      pods("web")
        .map((p) => p.spec.nodeName)
        .sort(),
    ).toEqual(["w1", "w2"]);
    expect(
      pods("agent")
        .map((p) => p.spec.nodeName)
        .sort(),
    ).toEqual(["cp1", "w1", "w2"]);
  });

  it("counts the DaemonSet's pods in its status, as kubectl rollout status reads them", async ({
    expect,
  }) => {
    const result = await kubectl("rollout", "status", "daemonset/agent", "-n", "shop", "--timeout=10s");
    expect(result.code, result.stderr).toBe(0);
    expect(
      get({ apiVersion: "apps/v1", kind: "DaemonSet", name: "agent", namespace: "shop" }).status,
    ).toMatchObject({
      desiredNumberScheduled: 3,
      numberReady: 3,
    });
  });

  it("cordons and drains with kubectl: the pod moves to the other node, the DaemonSet pod stays", async ({
    expect,
  }) => {
    const drained = await kubectl("drain", "w1", "--ignore-daemonsets", "--timeout=20s");
    expect(drained.code, drained.stderr).toBe(0);
    expect(drained.stdout).toContain("node/w1 cordoned");
    expect(drained.stdout).toContain("node/w1 drained");
    const node = get({ apiVersion: "v1", kind: "Node", name: "w1" });
    expect(node.spec.unschedulable).toBe(true);
    await kube.waitFor(() => pods("web").filter(isReady).length === 2);
    expect(pods("web").map((p) => p.spec.nodeName)).toEqual(["w2", "w2"]);
    expect(
      pods("agent")
        .map((p) => p.spec.nodeName)
        .sort(),
    ).toEqual(["cp1", "w1", "w2"]);
  });

  it("refuses an eviction that would break the PodDisruptionBudget with 429 and the API server's message", async ({
    expect,
  }) => {
    // w1 and w2 cordoned, cp1 tainted: an evicted pod has nowhere to go, so the second one is refused
    expect((await kubectl("cordon", "w2")).code).toBe(0);
    const [first, second] = pods("web");
    const evict = (name: string) =>
      fetch(`${kube.url}/api/v1/namespaces/shop/pods/${name}/eviction`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          apiVersion: "policy/v1",
          kind: "Eviction",
          metadata: { name, namespace: "shop" },
        }),
      });
    const ok = await evict(first!.metadata.name);
    expect(ok.status).toBe(201);
    await kube.waitFor(() => pods("web").some((p) => p.status.phase === "Pending"));
    const refused = await evict(second!.metadata.name);
    expect(refused.status).toBe(429);
    const body = (await refused.json()) as Record<string, never>;
    expect(body).toMatchObject({
      kind: "Status",
      status: "Failure",
      reason: "TooManyRequests",
      code: 429,
      message: "Cannot evict pod as it would violate the pod's disruption budget.",
      details: {
        causes: [
          {
            reason: "DisruptionBudget",
            message: "The disruption budget web needs 1 healthy pods and has 1 currently",
          },
        ],
      },
    });
    expect(pods("web").find((p) => p.metadata.name === second!.metadata.name)).toBeDefined();
    const drain = await kubectl("drain", "w2", "--ignore-daemonsets", "--timeout=2s");
    expect(drain.code).not.toBe(0);
    expect(drain.stderr).toContain("Cannot evict pod as it would violate the pod's disruption budget.");
  });

  it("schedules the pending pod again on uncordon", async ({ expect }) => {
    const result = await kubectl("uncordon", "w1");
    expect(result.code, result.stderr).toBe(0);
    await kube.waitFor(() => pods("web").filter(isReady).length === 2);
    expect(
      pods("web")
        .map((p) => p.spec.nodeName)
        .sort(),
    ).toContain("w1");
    await kubectl("uncordon", "w2");
  });

  it("reports a node that stops posting status as not Ready, with its pods not Ready", async ({ expect }) => {
    kube.nodes.setReady("w1", false);
    await kube.waitFor(() => pods("agent").filter(isReady).length === 2);
    const node = get({ apiVersion: "v1", kind: "Node", name: "w1" });
    expect(node.status.conditions.find((c: { type: string }) => c.type === "Ready")).toMatchObject({
      status: "Unknown",
      reason: "NodeStatusUnknown",
    });
    const onW1 = pods("agent").find((p) => p.spec.nodeName === "w1");
    expect(onW1 && isReady(onW1)).toBe(false);
    kube.nodes.setReady("w1", true);
    await kube.waitFor(() => pods("agent").filter(isReady).length === 3);
  });

  it("reports a new kubelet version and a new API server version", async ({ expect }) => {
    kube.nodes.update("w1", { kubeletVersion: "v1.35.0" });
    kube.setKubernetesVersion("1.35.0");
    const version = (await (await fetch(`${kube.url}/version`)).json()) as { gitVersion: string };
    expect(version.gitVersion).toBe("v1.35.0");
    const node = get({ apiVersion: "v1", kind: "Node", name: "w1" });
    expect(node.status.nodeInfo.kubeletVersion).toBe("v1.35.0");
  });

  it("keeps a Node deleted through the API deleted while its kubelet is down, and registers it again when it runs", async ({
    expect,
  }) => {
    kube.nodes.register({ name: "w9", internalIP: "10.0.0.9", kubeletVersion: "v1.35.0" });
    kube.nodes.setReady("w9", false);
    expect((await kubectl("delete", "node", "w9")).code).toBe(0);
    kube.nodes.setReady("w9", false);
    expect(get({ apiVersion: "v1", kind: "Node", name: "w9" })).toBeUndefined();
    kube.nodes.setReady("w9", true);
    expect(get({ apiVersion: "v1", kind: "Node", name: "w9" })?.metadata.name).toBe("w9");
    kube.nodes.remove("w9");
  });

  it("deletes a removed node and its pods; the Deployment's pod comes back elsewhere", async ({ expect }) => {
    kube.nodes.remove("w2");
    await kube.waitFor(
      () => pods("web").filter(isReady).length === 2 && pods("web").every((p) => p.spec.nodeName === "w1"),
    );
    expect(kube.get({ apiVersion: "v1", kind: "Node", name: "w2" })).toBeUndefined();
    expect(
      pods("agent")
        .map((p) => p.spec.nodeName)
        .sort(),
    ).toEqual(["cp1", "w1"]);
  });
});
