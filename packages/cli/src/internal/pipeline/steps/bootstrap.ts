import type { LoadedConfig } from "../../config/load.js";
import { failureOf, type Step, type StepContext } from "../step.js";

type NodeConfig = LoadedConfig["config"]["nodes"][number];

function firstControlPlane(ctx: StepContext): NodeConfig {
  return ctx.config.nodes.find((n) => n.role === "controlplane") as NodeConfig;
}

/** A client for the control planes over mTLS (the caller closes it). */
export function controlPlaneClient(ctx: StepContext) {
  const cps = ctx.config.nodes.filter((n) => n.role === "controlplane");
  return ctx.libs.talos.createTalosClient({
    talosconfig: ctx.found.talosconfig as string,
    endpoints: cps.map((n) => ctx.target.talosEndpoint(n)),
    nodes: [firstControlPlane(ctx).address],
    timeoutMs: 30_000,
  });
}

function isCode(error: unknown, code: string): boolean {
  return (error as { code?: unknown })?.code === code;
}

/** etcd, bootstrapped once on the first control plane. */
export const bootstrapStep: Step = {
  id: "bootstrap",
  title: "etcd bootstrap",
  async plan(ctx) {
    const first = firstControlPlane(ctx);
    const subject = `etcd on ${first.name}`;
    const create = [
      {
        id: "bootstrap",
        step: "bootstrap",
        subject,
        action: "create" as const,
        summary: `bootstrap etcd on ${first.name}`,
      },
    ];
    // etcd is read once the first control plane runs: not while it waits for its first config
    if (ctx.found.talosconfig === undefined || ctx.found.installing.has(first.name)) return create;
    const client = controlPlaneClient(ctx);
    try {
      const members = await client.etcdMemberList({ node: first.address });
      if (members.length > 0)
        return [
          {
            id: "bootstrap",
            step: "bootstrap",
            subject,
            action: "none",
            summary: `${members.length} member(s)`,
          },
        ];
      return create;
    } catch (error) {
      // a node that is not configured yet has no etcd: the machine-config step reports whether it answers
      if (isCode(error, "UNAVAILABLE") || isCode(error, "DEADLINE_EXCEEDED"))
        return [failureOf("bootstrap", "bootstrap", subject, error)];
      return create;
    } finally {
      client.close();
    }
  },
  async apply(ctx) {
    const first = firstControlPlane(ctx);
    const client = controlPlaneClient(ctx);
    try {
      await client.bootstrap({ node: first.address });
    } catch (error) {
      if (!isCode(error, "ALREADY_EXISTS")) throw error;
      return "etcd: already bootstrapped";
    } finally {
      client.close();
    }
    ctx.progress.bootstrapped = { node: first.name, at: new Date(ctx.clock.now()).toISOString() };
    await ctx.saveProgress();
    return `etcd bootstrapped on ${first.name}`;
  },
};

/** Waits for a healthy cluster whenever a node or etcd changed in this run. */
export const healthStep: Step = {
  id: "health",
  title: "cluster health",
  ownProgress: true,
  async plan() {
    // nothing to read: health is waited for after changes (see `apply`), a no-op run does not wait
    return [
      {
        id: "health",
        step: "health",
        subject: "cluster",
        action: "none",
        summary: "waited for after node changes",
      },
    ];
  },
  async apply(ctx) {
    const cps = ctx.config.nodes.filter((n) => n.role === "controlplane");
    const workers = ctx.config.nodes.filter((n) => n.role === "worker");
    const client = controlPlaneClient(ctx);
    const step = ctx.out.step("waiting for the cluster to be healthy");
    try {
      const report = await client.waitForHealthy({
        controlPlaneNodes: cps.map((n) => n.address),
        workerNodes: workers.map((n) => n.address),
        timeoutMs: ctx.healthTimeoutMs ?? (ctx.target.kind === "lab" ? 60_000 : 15 * 60_000),
        signal: ctx.signal,
        clock: ctx.clock,
        onProgress: (e) => step.update(e),
      });
      step.done(
        `cluster healthy (${ctx.config.nodes.length} node(s), etcd members: ${report.etcdMembers.length})`,
      );
      return "healthy";
    } catch (error) {
      if (ctx.signal.aborted) step.interrupted();
      else step.fail("the cluster did not become healthy");
      throw error;
    } finally {
      client.close();
    }
  },
};
