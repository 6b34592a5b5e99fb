import { readFile } from "node:fs/promises";
import type { KubernetesAccess } from "@talos-homelab/talos-client";
import { HomelabError } from "../../errors.js";
import { writeFileAtomic } from "../fs/atomic.js";
import type { Day2Cluster, Day2Node } from "./cluster.js";
import type { Day2Step, Day2StepContext } from "./operation.js";

// Steps that day-2 operations share: gates (etcd quorum, cluster health), cordon + drain, wait
// until a node is back and Ready, uncordon, and an edit of homelab.yaml that keeps its comments.

/** Default wait for a node to come back (talos-client's upgrade wait). */
export const DEFAULT_NODE_BACK_MS = 15 * 60_000;
/** Default drain limit (talosctl's). */
export const DEFAULT_DRAIN_MS = 5 * 60_000;
/** Default wait for the cluster to be healthy between nodes. */
export const DEFAULT_HEALTH_MS = 5 * 60_000;

const POLL_MS = 1_000;

/** The Kubernetes node of a homelab.yaml node: the one with its address as InternalIP, else its name. */
export async function kubernetesNodeName(
  kube: KubernetesAccess,
  node: Day2Node,
  signal: AbortSignal,
): Promise<string> {
  const nodes = await kube.listNodes({ signal });
  return nodes.find((n) => n.internalIPs.includes(node.address))?.name ?? node.name;
}

/** `homelab.yaml` edited through the yaml Document API (comments and layout stay), written atomically. */
export function configEditStep(options: {
  id: string;
  path: string;
  /** Key path, e.g. ["cluster", "talosVersion"]. */
  key: (string | number)[];
  from: unknown;
  to: unknown;
  file: string;
}): Day2Step {
  return {
    id: options.id,
    kind: "config",
    description: `set ${options.key.join(".")}: ${String(options.from)} -> ${String(options.to)} in ${options.file}`,
    run: async () => {
      const { parseDocument } = await import("yaml");
      const doc = parseDocument(await readFile(options.path, "utf8"));
      if (doc.getIn(options.key) === options.to) return `already ${String(options.to)}`;
      doc.setIn(options.key, options.to);
      await writeFileAtomic(options.path, doc.toString());
      return `${options.key.join(".")} is ${String(options.to)}`;
    },
  };
}

/**
 * The gate before a control plane goes down: every other etcd member healthy, and enough of them to
 * keep quorum (members / 2 + 1) without this one. A single member cannot keep quorum: the gate
 * passes and says that etcd and the API are down while the node is away.
 */
export function etcdQuorumStep(cluster: Day2Cluster, node: Day2Node): Day2Step {
  return {
    id: `etcd-quorum:${node.name}`,
    kind: "check",
    node: node.name,
    description: `etcd keeps quorum while ${node.name} is down`,
    run: async (ctx) => {
      const cps = cluster.loaded.config.nodes.filter((n) => n.role === "controlplane");
      const others = cps.filter((n) => n.name !== node.name);
      const asker = others[0] ?? node;
      const members = await cluster.client(asker).etcdMemberList({ signal: ctx.signal, timeoutMs: 10_000 });
      if (members.length <= 1)
        return "single etcd member: etcd and the Kubernetes API are down while it reboots";
      const quorum = Math.floor(members.length / 2) + 1;
      const healthy: string[] = [];
      const unhealthy: string[] = [];
      for (const other of others) {
        const isMember = members.some((m) => m.hostname === other.name);
        if (!isMember) continue;
        const [services] = await cluster
          .client(other)
          .serviceList({ signal: ctx.signal, timeoutMs: 10_000 })
          .catch(() => [undefined]);
        const etcd = services?.ok ? services.value.find((s) => s.id === "etcd") : undefined;
        if (etcd?.state === "Running" && etcd.health.healthy) healthy.push(other.name);
        else unhealthy.push(other.name);
      }
      if (healthy.length < quorum)
        throw new HomelabError(
          "COMMAND_FAILED",
          `etcd would lose quorum: ${members.length} members need ${quorum}, and without ${node.name} only ${healthy.length} are healthy${unhealthy.length > 0 ? ` (not healthy: ${unhealthy.join(", ")})` : ""}`,
          { hint: `bring ${unhealthy.join(", ") || "the other members"} back first` },
        );
      return `${healthy.length} of ${members.length} members stay healthy (quorum ${quorum})`;
    },
  };
}

/**
 * Cordons and drains a node (PodDisruptionBudgets honoured, DaemonSet and mirror pods left). When the
 * drain fails, the node is uncordoned again, so the cluster is left as it was.
 */
export function cordonDrainStep(
  cluster: Day2Cluster,
  node: Day2Node,
  options: { drainTimeoutMs: number },
): Day2Step {
  return {
    id: `drain:${node.name}`,
    kind: "drain",
    node: node.name,
    description: `cordon and drain ${node.name} (PodDisruptionBudgets honoured)`,
    run: async (ctx) => {
      const kube = cluster.kubernetes;
      const name = await kubernetesNodeName(kube, node, ctx.signal);
      await kube.setUnschedulable(name, true, { signal: ctx.signal });
      ctx.progress(`cordoned ${name}`);
      try {
        const evicted = await cluster.talos.drainNode({
          kubernetes: kube,
          node: name,
          timeoutMs: options.drainTimeoutMs,
          clock: ctx.clock,
          signal: ctx.signal,
          onProgress: (e) => ctx.progress(e.message),
        });
        return `cordoned; ${evicted} pod(s) evicted`;
      } catch (error) {
        if (!ctx.signal.aborted) await kube.setUnschedulable(name, false).catch(() => undefined);
        throw error;
      }
    },
  };
}

/** Waits until the node's Kubernetes Node is Ready (and `check` passes, e.g. the new version). */
export function waitReadyStep(
  cluster: Pick<Day2Cluster, "kubernetes">,
  node: Day2Node,
  options: {
    timeoutMs: number;
    what?: string;
    check?: (ctx: Day2StepContext) => Promise<string | undefined>;
  },
): Day2Step {
  return {
    id: `ready:${node.name}`,
    kind: "wait",
    node: node.name,
    description: `wait until ${node.name} is ${options.what ?? "Ready"}`,
    run: (ctx) =>
      waitUntil(ctx, options.timeoutMs, `${node.name} is not ${options.what ?? "Ready"}`, async () => {
        const name = await kubernetesNodeName(cluster.kubernetes, node, ctx.signal);
        const k8s = (await cluster.kubernetes.listNodes({ signal: ctx.signal })).find((n) => n.name === name);
        if (k8s?.ready !== true) return `Kubernetes node ${name} is not Ready`;
        return (await options.check?.(ctx)) ?? undefined;
      }).then(() => `${node.name} is ${options.what ?? "Ready"}`),
  };
}

/** Uncordons the node. */
export function uncordonStep(cluster: Day2Cluster, node: Day2Node): Day2Step {
  return {
    id: `uncordon:${node.name}`,
    kind: "uncordon",
    node: node.name,
    description: `uncordon ${node.name}`,
    run: async (ctx) => {
      const name = await kubernetesNodeName(cluster.kubernetes, node, ctx.signal);
      await cluster.kubernetes.setUnschedulable(name, false, { signal: ctx.signal });
      return `${name} is schedulable`;
    },
  };
}

/** The `talosctl health` checks, Kubernetes ones included, until they pass or `timeoutMs`. */
export function healthStep(
  cluster: Day2Cluster,
  id: string,
  description: string,
  timeoutMs: number,
): Day2Step {
  return {
    id,
    kind: "health",
    description,
    run: async (ctx) => {
      const { nodes } = cluster.loaded.config;
      const cps = nodes.filter((n) => n.role === "controlplane");
      const report = await cluster.client(cps[0] ?? (nodes[0] as Day2Node)).waitForHealthy({
        controlPlaneNodes: cps.map((n) => n.address),
        workerNodes: nodes.filter((n) => n.role !== "controlplane").map((n) => n.address),
        kubernetes: cluster.kubernetes,
        timeoutMs,
        signal: ctx.signal,
        clock: ctx.clock,
        onProgress: (e) => ctx.progress(e),
      });
      return `healthy: ${report.checks.filter((c) => c.ok && !c.skipped).length} checks pass`;
    },
  };
}

/** Polls `probe` (undefined = done, else why not yet) every second until done or `timeoutMs`. */
export async function waitUntil(
  ctx: Day2StepContext,
  timeoutMs: number,
  what: string,
  probe: () => Promise<string | undefined>,
): Promise<void> {
  const started = ctx.clock.now();
  let last = "";
  for (;;) {
    try {
      const why = await probe();
      if (why === undefined) return;
      last = why;
    } catch (error) {
      if (ctx.signal.aborted) throw error;
      last = error instanceof Error ? (error.message.split("\n")[0] ?? "") : String(error);
    }
    if (ctx.clock.now() - started + POLL_MS > timeoutMs)
      throw new HomelabError("COMMAND_FAILED", `${what} after ${Math.round(timeoutMs / 1000)} s: ${last}`);
    ctx.progress(last);
    await ctx.clock.sleep(POLL_MS, ctx.signal);
  }
}
