import { copyFile, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, it } from "vitest";
import { addNodeText, removeNodeText } from "../src/internal/config/edit.js";
import { loadConfig } from "../src/internal/config/load.js";
import { type Lab, startLab } from "../src/internal/lab/lab.js";
import { publishLab } from "../src/internal/lab/running.js";
import { EXAMPLES, run, tempDir } from "./helpers.js";

/**
 * `homelab node add` and `homelab node remove` against a lab published in the state directory (as
 * `homelab lab` does), brought up with `up --simulate` first.
 */

const env = { TS_AUTHKEY: "tskey-node" };
let t: { dir: string; cleanup(): Promise<void> } | undefined;
let lab: Lab | undefined;

/**
 * A project from an example, its lab started and `up` run. `spare`: nodes left out of homelab.yaml
 * whose machines the lab still has, in maintenance mode (hardware waiting to be added).
 */
async function startProject(
  example: string,
  spare: string[] = [],
): Promise<{ dir: string; lab: Lab; cf: Record<string, string> }> {
  t = await tempDir();
  await copyFile(join(EXAMPLES, example), join(t.dir, "homelab.yaml"));
  const { config } = await loadConfig("homelab.yaml", { cwd: t.dir, env });
  let text = await readFile(join(t.dir, "homelab.yaml"), "utf8");
  for (const name of spare) text = removeNodeText(text, "homelab.yaml", name);
  await writeFile(join(t.dir, "homelab.yaml"), text);
  lab = await startLab({ config });
  await publishLab(join(t.dir, ".homelab", config.cluster.name, "lab"), lab.info);
  const up = await run(["up", "--simulate", "--json"], { cwd: t.dir, env });
  if (up.code !== 0) throw new Error(`up failed: ${up.stdout}${up.stderr}`);
  return {
    dir: t.dir,
    lab,
    cf: {
      CLOUDFLARE_BASE_URL: lab.info.cloudflare.url,
      CLOUDFLARE_API_TOKEN: lab.info.cloudflare.apiToken,
      HOMELAB_ALLOW_ENDPOINT_OVERRIDE: "1",
    },
  };
}

afterEach(async () => {
  await lab?.close();
  await t?.cleanup();
  lab = undefined;
  t = undefined;
});

async function waitFor(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
  if (!check()) throw new Error(`timed out waiting for ${what}`);
}

const nodeNames = (l: Lab) =>
  l.emulators.kube.list({ apiVersion: "v1", kind: "Node" }).map((n) => n.metadata.name);

/** A Kubernetes Node of the lab: registered (or undefined), and whether its Ready condition is True. */
function kubeNode(l: Lab, name: string): { ready: boolean } | undefined {
  const node = l.emulators.kube.get({ apiVersion: "v1", kind: "Node", name }) as unknown as
    | { status?: { conditions?: { type: string; status: string }[] } }
    | undefined;
  if (node === undefined) return undefined;
  return { ready: (node.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True") };
}

type Pod = { metadata: { name: string; labels?: Record<string, string> }; spec: { nodeName?: string } };
const webPods = (l: Lab) =>
  (l.emulators.kube.list({ apiVersion: "v1", kind: "Pod", namespace: "shop" }) as unknown as Pod[]).filter(
    (p) => p.metadata.labels?.app === "web",
  );

/** A Deployment of 4 pods across the workers, behind a PodDisruptionBudget allowing `minAvailable`. */
async function deployWeb(l: Lab, minAvailable: number): Promise<void> {
  const kube = l.emulators.kube;
  kube.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: "shop" } });
  kube.apply({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "shop" },
    spec: {
      replicas: 4,
      selector: { matchLabels: { app: "web" } },
      template: {
        metadata: { labels: { app: "web" } },
        spec: { containers: [{ name: "web", image: "nginx" }] },
      },
    },
  });
  setBudget(l, minAvailable);
  await kube.waitFor(() => webPods(l).filter((p) => p.spec.nodeName).length === 4);
}

function setBudget(l: Lab, minAvailable: number): void {
  l.emulators.kube.apply({
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: { name: "web", namespace: "shop" },
    spec: { minAvailable, selector: { matchLabels: { app: "web" } } },
  });
}

const etcdMembers = async (dir: string) => {
  const r = await run(["talos", "etcd", "members", "--json", "--nodes", "192.168.50.11"], { cwd: dir, env });
  return (r.json().members as { hostname: string }[]).map((m) => m.hostname).sort();
};

describe("homelab node remove", () => {
  it("wipes a worker and drops it from homelab.yaml (comments kept) and the tunnel", async ({ expect }) => {
    const p = await startProject("ha.yaml");
    const tunnel = () => p.lab.emulators.cloudflare.state.tunnels().find((x) => x.deletedAt === null);
    await waitFor("both connectors", () => tunnel()?.connectors.length === 2);
    const r = await run(["node", "remove", "worker2", "--yes", "--json"], { cwd: p.dir, env });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json().steps.map((s: { id: string }) => s.id)).toEqual([
      "drain:worker2",
      "reset",
      "delete-node",
      "tunnel",
      "config",
    ]);
    expect(nodeNames(p.lab)).not.toContain("worker2");
    expect(p.lab.emulators.talos.node("worker2").state()).toBe("maintenance");
    const yaml = await readFile(join(p.dir, "homelab.yaml"), "utf8");
    expect(yaml).not.toContain("worker2");
    expect(yaml).toContain("# A highly available homelab");
    expect(yaml).toContain("# the VIP, announced by whichever control plane leads");
    expect(tunnel()?.connectors.map((c) => c.originIp)).toEqual(["192.168.50.21"]);
    const audit = await run(["tunnel", "audit", "--json"], { cwd: p.dir, env: { ...env, ...p.cf } });
    expect(audit.json().connectors.flatMap((c: { originIps: string[] }) => c.originIps)).toEqual([
      "192.168.50.21",
    ]);
    // the lab keeps the wiped machine; homelab.yaml and the cluster agree
    const again = await run(["up", "--simulate", "--json"], { cwd: p.dir, env });
    expect(again.code, again.stderr).toBe(0);
    expect(again.json().changed).toBe(0);
  }, 120_000);

  it("stops at a drain a PodDisruptionBudget blocks, the node uncordoned again and in the cluster", async ({
    expect,
  }) => {
    const p = await startProject("ha.yaml");
    await deployWeb(p.lab, 4);
    expect(webPods(p.lab).some((pod) => pod.spec.nodeName === "worker2")).toBe(true);
    const r = await run(["node", "remove", "worker2", "--yes", "--json", "--node-timeout", "2s"], {
      cwd: p.dir,
      env,
    });
    expect(r.code).toBe(1);
    expect(r.json().error.message).toMatch(/node-remove stopped at step 1 of \d+ \(cordon and drain worker2/);
    expect(p.lab.emulators.talos.node("worker2").state()).toBe("running");
    expect(nodeNames(p.lab)).toContain("worker2");
    const node = p.lab.emulators.kube
      .list({ apiVersion: "v1", kind: "Node" })
      .find((n) => n.metadata.name === "worker2") as unknown as { spec: { unschedulable?: boolean } };
    expect(node.spec.unschedulable ?? false).toBe(false);
    expect(await readFile(join(p.dir, "homelab.yaml"), "utf8")).toContain("name: worker2");
    // the budget allows one pod down: the rerun drains and finishes
    setBudget(p.lab, 3);
    const again = await run(["node", "remove", "worker2", "--yes", "--json"], { cwd: p.dir, env });
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(nodeNames(p.lab)).not.toContain("worker2");
    await p.lab.emulators.kube.waitFor(
      () => webPods(p.lab).length === 4 && webPods(p.lab).every((pod) => pod.spec.nodeName === "worker1"),
    );
  }, 120_000);

  it("makes a control plane leave etcd before wiping it", async ({ expect }) => {
    const p = await startProject("ha.yaml");
    expect(await etcdMembers(p.dir)).toEqual(["cp1", "cp2", "cp3"]);
    const r = await run(["node", "remove", "cp3", "--yes", "--json"], { cwd: p.dir, env });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json().plan.notes).toEqual([
      expect.stringMatching(/etcd keeps quorum: 2 member\(s\) left, 2 healthy, 2 needed/),
    ]);
    expect(r.json().steps.map((s: { id: string }) => s.id)).toEqual([
      "drain:cp3",
      "etcd-leave",
      "reset",
      "delete-node",
      "talosconfig",
      "config",
    ]);
    const talosconfig = await readFile(join(p.dir, ".homelab/homelab-ha/lab/talosconfig"), "utf8");
    expect(talosconfig).not.toContain(p.lab.emulators.talos.node("cp3").endpoint);
    expect(talosconfig).toContain(p.lab.emulators.talos.node("cp2").endpoint);
    expect(await etcdMembers(p.dir)).toEqual(["cp1", "cp2"]);
    expect(p.lab.emulators.talos.node("cp3").state()).toBe("maintenance");
  }, 120_000);

  it("refuses when the remaining etcd members would lose quorum, changing nothing", async ({ expect }) => {
    const p = await startProject("ha.yaml");
    p.lab.emulators.talos.node("cp2").stop();
    const r = await run(["node", "remove", "cp3", "--yes", "--json"], { cwd: p.dir, env });
    expect(r.code).toBe(1);
    expect(r.json().error.message).toMatch(
      /removing cp3 would lose etcd quorum: 2 member\(s\) would remain, 2 needed, but only 1 \(cp1\) answer/,
    );
    expect(r.json().error.hint).toMatch(/bring cp2 back first/);
    p.lab.emulators.talos.node("cp2").start();
    expect(await etcdMembers(p.dir)).toEqual(["cp1", "cp2", "cp3"]);
    expect(await readFile(join(p.dir, "homelab.yaml"), "utf8")).toContain("name: cp3");
  }, 120_000);

  it("refuses to remove the last control plane", async ({ expect }) => {
    const p = await startProject("homelab.yaml");
    const r = await run(["node", "remove", "node1", "--yes", "--json"], { cwd: p.dir, env });
    expect(r.code).toBe(1);
    expect(r.json().error.message).toMatch(/node1 is the last control plane/);
    expect(p.lab.emulators.talos.node("node1").state()).toBe("running");
  }, 60_000);

  it("reaches the cluster through --talosconfig as node add does (a missing one stops it, the node untouched)", async ({
    expect,
  }) => {
    const p = await startProject("ha.yaml");
    const missing = join(p.dir, "elsewhere", "talosconfig");
    const r = await run(["node", "remove", "worker2", "--yes", "--talosconfig", missing], {
      cwd: p.dir,
      env,
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`no talosconfig at ${missing}`);
    expect(p.lab.emulators.talos.node("worker2").state()).toBe("running");
    expect(await readFile(join(p.dir, "homelab.yaml"), "utf8")).toContain("name: worker2");
  }, 120_000);

  it("names the nodes homelab.yaml lists when NAME is not one", async ({ expect }) => {
    const p = await startProject("homelab.yaml");
    const r = await run(["node", "remove", "nodeX", "--yes", "--json"], { cwd: p.dir, env });
    expect(r.code).toBe(2);
    expect(r.json().error).toMatchObject({ code: "USAGE", hint: "nodes: node1" });
  }, 60_000);
});

describe("addNodeText / removeNodeText", () => {
  it("cuts and appends only the entry's lines, leaving the rest of homelab.yaml byte for byte", async ({
    expect,
  }) => {
    const text = await readFile(join(EXAMPLES, "ha.yaml"), "utf8");
    const entry = {
      name: "worker3",
      role: "worker" as const,
      address: "192.168.50.23",
      installDiskSelector: { type: "ssd", size: ">= 200GB" },
      interfaces: [{ name: "eno1", addresses: ["192.168.50.23/24"], gateway: "192.168.50.1" }],
    };
    const added = addNodeText(text, "ha.yaml", entry);
    expect(added.split("\n").length).toBe(text.split("\n").length + 6);
    expect(removeNodeText(added, "ha.yaml", "worker3")).toBe(text);
    const without = removeNodeText(text, "ha.yaml", "cp2");
    expect(text.replace(/ {2}- name: cp2\n(?: {4}.*\n)+/, "")).toBe(without);
    expect(() => addNodeText(text, "ha.yaml", { ...entry, name: "cp1" })).toThrow(/already lists cp1/);
    expect(() => removeNodeText(text, "ha.yaml", "nope")).toThrow(/lists no nope/);
  });
});

describe("homelab node add", () => {
  it("writes a new worker into homelab.yaml, applies its config, waits for it and the cluster", async ({
    expect,
  }) => {
    const p = await startProject("ha.yaml", ["worker2"]);
    expect(p.lab.emulators.talos.node("worker2").state()).toBe("maintenance");
    const r = await run(["node", "add", "worker2", "--address", "192.168.50.22", "--yes", "--json"], {
      cwd: p.dir,
      env,
    });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json().steps.map((s: { id: string }) => s.id)).toEqual([
      "config",
      "apply:worker2",
      "join:worker2",
      "ready:worker2",
      "health",
    ]);
    expect(p.lab.emulators.talos.node("worker2").state()).toBe("running");
    // the command returned once the kubelet registered its Node and the Node is Ready
    expect(kubeNode(p.lab, "worker2")).toMatchObject({ ready: true });
    const yaml = await readFile(join(p.dir, "homelab.yaml"), "utf8");
    expect(yaml).toContain("# A highly available homelab");
    expect(yaml).toContain(
      [
        "  - name: worker2",
        "    role: worker",
        "    address: 192.168.50.22",
        '    installDiskSelector: { size: ">= 200GB", type: ssd }',
        "    interfaces:",
        "      - { name: eno1, addresses: [192.168.50.22/24], gateway: 192.168.50.1 }",
      ].join("\n"),
    );
    const tunnel = () => p.lab.emulators.cloudflare.state.tunnels().find((x) => x.deletedAt === null);
    await waitFor("worker2's connector", () =>
      (tunnel()?.connectors ?? []).some((c) => c.originIp === "192.168.50.22"),
    );
    const again = await run(["up", "--simulate", "--json"], { cwd: p.dir, env });
    expect(again.code, again.stderr).toBe(0);
    expect(again.json().changed).toBe(0);
    const noop = await run(["node", "add", "worker2", "--yes", "--json"], { cwd: p.dir, env });
    expect(noop.code).toBe(0);
    expect(noop.json()).toMatchObject({ changed: false, steps: [] });
  }, 120_000);

  it("writes a control plane into homelab.yaml (sharing the VIP) and joins it as an etcd member", async ({
    expect,
  }) => {
    const p = await startProject("ha.yaml", ["cp3"]);
    expect(await etcdMembers(p.dir)).toEqual(["cp1", "cp2"]);
    const r = await run(
      ["node", "add", "cp3", "--role", "controlplane", "--address", "192.168.50.13", "--yes", "--json"],
      { cwd: p.dir, env },
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json().steps.find((s: { id: string }) => s.id === "join:cp3").detail).toBe(
      "etcd member (3 member(s))",
    );
    expect(await etcdMembers(p.dir)).toEqual(["cp1", "cp2", "cp3"]);
    expect(await readFile(join(p.dir, "homelab.yaml"), "utf8")).toContain(
      "      - { name: eno1, addresses: [192.168.50.13/24], gateway: 192.168.50.1, vip: 192.168.50.10 }",
    );
  }, 120_000);

  it("powers on a machine in the running lab for a node that is new hardware, then joins it", async ({
    expect,
  }) => {
    const p = await startProject("ha.yaml");
    const r = await run(["node", "add", "worker3", "--address", "192.168.50.23", "--yes", "--json"], {
      cwd: p.dir,
      env,
    });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json().steps.map((s: { id: string }) => s.id)).toEqual([
      "config",
      "machine:worker3",
      "apply:worker3",
      "join:worker3",
      "ready:worker3",
      "health",
    ]);
    expect(kubeNode(p.lab, "worker3")).toMatchObject({ ready: true });
    expect(p.lab.emulators.talos.node("worker3").state()).toBe("running");
    const labJson = JSON.parse(await readFile(join(p.dir, ".homelab/homelab-ha/lab/lab.json"), "utf8"));
    expect(labJson.nodes.map((n: { name: string }) => n.name)).toContain("worker3");
    const again = await run(["up", "--simulate", "--json"], { cwd: p.dir, env });
    expect(again.code, again.stderr).toBe(0);
    expect(again.json().changed).toBe(0);
  }, 120_000);

  it("points up --simulate at node add when homelab.yaml lists a node the running lab has no machine for", async ({
    expect,
  }) => {
    const p = await startProject("homelab.yaml");
    const text = await readFile(join(p.dir, "homelab.yaml"), "utf8");
    await writeFile(
      join(p.dir, "homelab.yaml"),
      addNodeText(text, "homelab.yaml", {
        name: "node2",
        role: "worker",
        address: "192.168.50.201",
        installDisk: "/dev/sda",
      }),
    );
    const r = await run(["up", "--simulate", "--json"], { cwd: p.dir, env });
    expect(r.code, r.stdout).toBe(2);
    expect(r.json().error.message).toMatch(/the running lab .* has no machine for node2/);
    expect(r.json().error.hint).toMatch(/homelab node add node2/);
  }, 60_000);

  it("refuses node flags without --address, and --address for a name listed with another", async ({
    expect,
  }) => {
    const p = await startProject("homelab.yaml");
    const a = await run(["node", "add", "n2", "--role", "worker", "--yes", "--json"], { cwd: p.dir, env });
    expect(a.code).toBe(2);
    expect(a.json().error.message).toMatch(/--role describes a new node: give its --address too/);
    const b = await run(["node", "add", "node1", "--address", "192.168.50.9", "--yes", "--json"], {
      cwd: p.dir,
      env,
    });
    expect(b.code).toBe(2);
    expect(b.json().error.message).toMatch(/already lists node1 with address 192\.168\.50\.200/);
  }, 60_000);
});
