import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "vitest";
import type { Lab } from "../src/internal/lab/lab.js";
import { DEFAULT_COREDNS_IMAGE } from "../src/internal/plan/kubernetes-images.js";
import { fastClock, run, tempDir, upPublishedLab } from "./helpers.js";

/** `homelab upgrade kubernetes --simulate` end to end against a lab in this process. */

const env = { TS_AUTHKEY: "tskey-upgrade" };

let t: { dir: string; cleanup(): Promise<void> };
let lab: Lab;

async function bringUp(example: string): Promise<void> {
  lab = await upPublishedLab(t.dir, example, env);
}

function workloadImage(kind: "DaemonSet" | "Deployment", name: string): string | undefined {
  const object = lab.emulators.kube.get({ apiVersion: "apps/v1", kind, name, namespace: "kube-system" }) as
    | { spec: { template: { spec: { containers: { image: string }[] } } } }
    | undefined;
  return object?.spec.template.spec.containers[0]?.image;
}

const upgrade = (args: string[]) =>
  run(["upgrade", "kubernetes", ...args], { cwd: t.dir, env, clock: fastClock });

beforeEach(async () => {
  t = await tempDir();
});

afterEach(async () => {
  await lab?.close();
  await t.cleanup();
});

describe("homelab upgrade kubernetes --simulate", () => {
  it("moves the control plane components node by node, then the kubelets; the API and the Nodes report the new version", async ({
    expect,
  }) => {
    await bringUp("homelab.yaml");
    // what Talos's bootstrap manifests created in kube-system
    expect(workloadImage("DaemonSet", "kube-proxy")).toMatch(/^registry\.k8s\.io\/kube-proxy:v1\.35\./);
    expect(workloadImage("Deployment", "coredns")).toBe(DEFAULT_COREDNS_IMAGE);
    const r = await upgrade(["--to", "1.36.0", "--simulate", "--yes", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const ids = r.json().steps.map((s: { id: string }) => s.id);
    expect(ids).toEqual([
      "config:kubernetesVersion",
      "health:before",
      "kube-apiserver:node1",
      "kube-controller-manager:node1",
      "kube-scheduler:node1",
      "health:control-plane",
      ...ids.filter((id: string) => id.startsWith("kube-proxy:")),
      "kubelet:node1",
      "health:node1",
      "manifests",
      "health:manifests",
    ]);
    const version = (await (await fetch(`${lab.info.kube.url}/version`)).json()) as { gitVersion: string };
    expect(version.gitVersion).toBe("v1.36.0");
    const node = lab.emulators.kube.get({ apiVersion: "v1", kind: "Node", name: "node1" }) as unknown as {
      status: { nodeInfo: { kubeletVersion: string } };
    };
    expect(node.status.nodeInfo.kubeletVersion).toBe("v1.36.0");
    const apiserver = lab.emulators.kube.get({
      apiVersion: "v1",
      kind: "Pod",
      name: "kube-apiserver-node1",
      namespace: "kube-system",
    }) as unknown as { spec: { containers: { image: string }[] } };
    expect(apiserver.spec.containers[0]?.image).toBe("registry.k8s.io/kube-apiserver:v1.36.0");
    const live = lab.emulators.talos.node("node1").appliedConfig() ?? "";
    expect(live).toContain("ghcr.io/siderolabs/kubelet:v1.36.0");
    expect(await readFile(join(t.dir, "homelab.yaml"), "utf8")).toMatch(/^ {2}kubernetesVersion: 1\.36\.0$/m);
    // talosctl upgrade-k8s's last step: the bootstrap manifests follow the patched config
    expect(workloadImage("DaemonSet", "kube-proxy")).toBe("registry.k8s.io/kube-proxy:v1.36.0");
    expect(workloadImage("Deployment", "coredns")).toBe(DEFAULT_COREDNS_IMAGE);

    const again = await upgrade(["--simulate", "--yes"]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain("Nothing to do: homelab runs Kubernetes 1.36.0 everywhere.");
  }, 60_000);

  it("syncs a bootstrap manifest that drifted from the machine config even when every component is on the version", async ({
    expect,
  }) => {
    await bringUp("homelab.yaml");
    const coredns = lab.emulators.kube.get({
      apiVersion: "apps/v1",
      kind: "Deployment",
      name: "coredns",
      namespace: "kube-system",
    }) as unknown as { spec: { template: { spec: { containers: { name: string; image: string }[] } } } };
    coredns.spec.template.spec.containers = [
      { name: "coredns", image: "registry.k8s.io/coredns/coredns:v1.11.1" },
    ];
    lab.emulators.kube.apply(coredns as unknown as Record<string, unknown>, { fieldManager: "test" });
    expect(workloadImage("Deployment", "coredns")).toBe("registry.k8s.io/coredns/coredns:v1.11.1");
    const r = await upgrade(["--simulate", "--yes", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().steps.map((s: { id: string }) => s.id)).toEqual([
      "health:before",
      "manifests",
      "health:manifests",
    ]);
    expect(workloadImage("Deployment", "coredns")).toBe(DEFAULT_COREDNS_IMAGE);
  }, 60_000);

  it("reaches the cluster through --talosconfig as every day-2 command does (a missing one stops it)", async ({
    expect,
  }) => {
    await bringUp("homelab.yaml");
    const missing = join(t.dir, "elsewhere", "talosconfig");
    const r = await upgrade(["--to", "1.36.0", "--simulate", "--yes", "--talosconfig", missing]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`no talosconfig at ${missing}`);
    expect(await readFile(join(t.dir, "homelab.yaml"), "utf8")).not.toContain("1.36.0");
  }, 60_000);

  it("refuses a jump over a minor version, changing nothing", async ({ expect }) => {
    await bringUp("homelab.yaml");
    const skip = await upgrade(["--to", "1.37.0", "--simulate", "--yes"]);
    expect(skip.code).toBe(2);
    expect(skip.stderr).toContain("skips 1.36, and Kubernetes upgrades one minor version at a time");
    expect(lab.emulators.talos.node("node1").appliedConfig()).not.toContain("v1.37.0");
  }, 60_000);
});
