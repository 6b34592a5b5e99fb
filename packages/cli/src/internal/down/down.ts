import { rm } from "node:fs/promises";
import { join } from "node:path";
import { loadCfTunnel, type Plan } from "../adapters/cf-tunnel.js";
import type { LoadedConfig } from "../config/load.js";
import { readOptional, readProgress } from "../pipeline/state.js";
import { missingCloudflareToken } from "../secrets/cloudflare-token.js";
import { nodeClient, type ProjectSystems } from "../state/systems.js";

// `homelab down`: the inverse of `up`, planned from the live systems and the state directory, applied
// in the order that never leaves a hostname pointing at nothing it should: DNS records first, then
// Access, then the tunnel's ingress rules, then the nodes (wiped back to maintenance mode, which
// stops their cloudflared), then the tunnel itself, then the state files. Only what `up` owns is
// touched: DNS records and Access applications carrying cf-tunnel's ownership marks, the tunnel
// `up` recorded in progress.json, and nodes that answer with this homelab's talosconfig.

type NodeConfig = LoadedConfig["config"]["nodes"][number];

/** One step of the plan; `items` empty means nothing to do there. */
export interface DownStep {
  id: "dns" | "access" | "ingress" | "nodes" | "tunnel" | "state";
  title: string;
  items: string[];
}

/** What `down` would remove, and what it leaves alone (with why). */
export interface DownPlan {
  cluster: string;
  stateDir: string;
  steps: DownStep[];
  kept: string[];
  /** Number of things to remove. */
  changes: number;
  /** Internal: what apply needs. */
  cloudflare?: { plan: Plan; tunnelId?: string };
  nodes: NodeConfig[];
  files: string[];
}

const STATE_FILES = ["progress.json", "talosconfig", "kubeconfig"];

/** Reads the live systems and the state directory; changes nothing. */
export async function planDown(
  loaded: LoadedConfig,
  systems: ProjectSystems,
  signal: AbortSignal,
): Promise<DownPlan> {
  const { config } = loaded;
  const kept: string[] = [];
  const steps: DownStep[] = [];
  const progress = await readProgress(systems.state.dir);
  let cloudflare: DownPlan["cloudflare"];

  if (config.tunnel) {
    if (!systems.cloudflare)
      throw (
        systems.cloudflareProblem ?? missingCloudflareToken("the tunnel, DNS and Access cannot be planned")
      );
    const cf = await loadCfTunnel();
    // the desired state of a homelab that is gone: no routes; cf-tunnel plans the removal of what it owns
    const result = await cf.reconcile({
      client: systems.cloudflare,
      accountId: config.tunnel.accountId,
      zone: config.tunnel.zone,
      tunnelName: config.tunnel.name,
      routes: [],
      dryRun: true,
      signal,
    });
    const plan = result.plan;
    const owned = plan.tunnel.id !== "" && progress.tunnel?.id === plan.tunnel.id;
    if (plan.tunnel.id !== "" && !owned)
      kept.push(
        `tunnel ${plan.tunnel.name} (${plan.tunnel.id}): not the tunnel \`up\` recorded in ${join(systems.state.dir, "progress.json")}`,
      );
    cloudflare = { plan, ...(owned ? { tunnelId: plan.tunnel.id } : {}) };
    steps.push(
      {
        id: "dns",
        title: "DNS records",
        items: plan.dns.delete.map((d) => `${d.type} ${d.name} -> ${d.content}`),
      },
      {
        id: "access",
        title: "Access applications and policies",
        items: [
          ...plan.access.deleteApps.map((a) => `application ${a.name} (${a.hostname})`),
          ...plan.access.deletePolicies.map((p) => `policy ${p.name}`),
        ],
      },
      {
        id: "ingress",
        title: "tunnel ingress rules",
        items: plan.ingress.remove.map((h) => `rule for ${h}`),
      },
    );
  }

  const nodes: NodeConfig[] = [];
  if (systems.talosconfig) {
    // workers first, then control planes: the cluster shrinks from the edge
    for (const node of [
      ...config.nodes.filter((n) => n.role === "worker"),
      ...config.nodes.filter((n) => n.role === "controlplane"),
    ]) {
      const client = await nodeClient(systems, node);
      try {
        const [answer] = await client.version({ nodes: [node.address] });
        if (answer?.ok) nodes.push(node);
        else
          kept.push(`node ${node.name} (${node.address}): does not answer with this homelab's talosconfig`);
      } catch {
        kept.push(`node ${node.name} (${node.address}): does not answer with this homelab's talosconfig`);
      } finally {
        client.close();
      }
    }
  } else kept.push("nodes: no talosconfig in the state directory, so none is known to be this homelab's");
  steps.push({
    id: "nodes",
    title: "Talos nodes (reset: disks wiped, back to maintenance mode)",
    items: nodes.map((n) => `${n.name} ${n.role} ${n.address}`),
  });
  steps.push({
    id: "tunnel",
    title: "Cloudflare tunnel",
    items: cloudflare?.tunnelId ? [`${config.tunnel?.name} (${cloudflare.tunnelId})`] : [],
  });

  const files: string[] = [];
  for (const name of STATE_FILES) {
    const path = join(systems.state.dir, name);
    if ((await readOptional(path)) !== undefined) files.push(path);
  }
  steps.push({ id: "state", title: "state files", items: files });
  if ((await readOptional(join(systems.state.dir, "secrets.yaml"))) !== undefined)
    kept.push(
      `${join(systems.state.dir, "secrets.yaml")}: the machine secrets are kept (a later \`up\` reuses them)`,
    );

  const changes = steps.reduce((n, s) => n + s.items.length, 0);
  return {
    cluster: config.cluster.name,
    stateDir: systems.state.dir,
    steps,
    kept,
    changes,
    ...(cloudflare ? { cloudflare } : {}),
    nodes,
    files,
  };
}

/** The plan for people: a section per step in the order it runs, then what stays. */
export function renderDownPlan(plan: DownPlan): string {
  const lines = [`homelab down: ${plan.cluster} (state ${plan.stateDir})`];
  plan.steps.forEach((s, i) => {
    lines.push(`${i + 1}. ${s.title}:${s.items.length === 0 ? " nothing" : ""}`);
    for (const item of s.items) lines.push(`     - ${item}`);
  });
  if (plan.kept.length > 0) {
    lines.push("Left alone:");
    for (const k of plan.kept) lines.push(`     ${k}`);
  }
  return lines.join("\n");
}

/** Applies a plan from {@link planDown}, step by step in its order. */
export async function applyDown(
  plan: DownPlan,
  loaded: LoadedConfig,
  systems: ProjectSystems,
  options: { signal: AbortSignal; onStep(step: DownStep): void },
): Promise<{ removed: Record<DownStep["id"], number> }> {
  const removed = { dns: 0, access: 0, ingress: 0, nodes: 0, tunnel: 0, state: 0 };
  const step = (id: DownStep["id"]) => plan.steps.find((s) => s.id === id) as DownStep;
  const { signal } = options;
  const cfPlan = plan.cloudflare?.plan;
  const client = systems.cloudflare;
  if (cfPlan && client && cfPlan.tunnel.id !== "") {
    const cf = await loadCfTunnel();
    const noAccess: Plan["access"] = {
      createPolicies: [],
      updatePolicies: [],
      createApps: [],
      updateApps: [],
      deleteApps: [],
      deletePolicies: [],
      policyIds: cfPlan.access.policyIds,
    };
    const sameIngress: Plan["ingress"] = {
      ...cfPlan.ingress,
      add: [],
      update: [],
      remove: [],
      staged: cfPlan.ingress.current,
      desired: cfPlan.ingress.current,
    };
    const noDns: Plan["dns"] = { create: [], update: [], delete: [] };
    const phase = (part: Partial<Plan>): Plan => ({
      ...cfPlan,
      conflicts: [],
      access: noAccess,
      ingress: sameIngress,
      dns: noDns,
      ...part,
    });
    const common = { client, signal };
    // 1. DNS: nothing resolves to the tunnel any more
    await cf.applyPlan({ ...common, plan: phase({ dns: { ...noDns, delete: cfPlan.dns.delete } }) });
    removed.dns = cfPlan.dns.delete.length;
    options.onStep(step("dns"));
    // 2. Access: only now that no hostname reaches the origin
    await cf.applyPlan({
      ...common,
      plan: phase({
        access: {
          ...noAccess,
          deleteApps: cfPlan.access.deleteApps,
          deletePolicies: cfPlan.access.deletePolicies,
        },
      }),
    });
    removed.access = cfPlan.access.deleteApps.length + cfPlan.access.deletePolicies.length;
    options.onStep(step("access"));
    // 3. ingress: the rules go, the catch-all stays until the tunnel does
    await cf.applyPlan({
      ...common,
      plan: phase({
        ingress: { ...sameIngress, remove: cfPlan.ingress.remove, desired: cfPlan.ingress.desired },
      }),
    });
    removed.ingress = cfPlan.ingress.remove.length;
    options.onStep(step("ingress"));
  }

  // 4. nodes: reset to maintenance mode (ungraceful: the whole cluster goes, etcd has nobody to leave to)
  if (plan.nodes.length > 0 && systems.talosconfig) {
    for (const node of plan.nodes) {
      const talos = await nodeClient(systems, node, 30_000);
      try {
        await talos.reset({ node: node.address, graceful: false, reboot: true });
        removed.nodes++;
      } finally {
        talos.close();
      }
    }
  }
  options.onStep(step("nodes"));

  // 5. the tunnel; its connectors went with the nodes, stale connections are cleaned up first
  const tunnelId = plan.cloudflare?.tunnelId;
  if (tunnelId && client && loaded.config.tunnel) {
    const account = { account_id: loaded.config.tunnel.accountId };
    try {
      await client.zeroTrust.tunnels.cloudflared.delete(tunnelId, account);
    } catch (error) {
      // 1022: the tunnel still lists connections (cloudflared gone, Cloudflare not caught up yet)
      if (!JSON.stringify((error as { errors?: unknown }).errors ?? "").includes("1022")) throw error;
      await client.zeroTrust.tunnels.cloudflared.connections.delete(tunnelId, account);
      await client.zeroTrust.tunnels.cloudflared.delete(tunnelId, account);
    }
    removed.tunnel = 1;
  }
  options.onStep(step("tunnel"));

  // 6. state: what described the cluster that no longer exists
  for (const file of plan.files) await rm(file, { force: true });
  removed.state = plan.files.length;
  options.onStep(step("state"));
  return { removed };
}
