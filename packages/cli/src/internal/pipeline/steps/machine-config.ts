import { HomelabError } from "../../../errors.js";
import type { Secret } from "../../../secret.js";
import type { TalosClientModule } from "../../adapters/talos-client.js";
import type { SecretsBundle, TalosConfigModule } from "../../adapters/talos-config.js";
import type { LoadedConfig } from "../../config/load.js";
import { nodeMachineConfig } from "../../plan/intent.js";
import { schematicOf } from "../../plan/schematic.js";
import {
  type Change,
  failureOf,
  mapBounded,
  type PlanFailure,
  type Step,
  type StepContext,
  throwIfInterrupted,
} from "../step.js";

type NodeConfig = LoadedConfig["config"]["nodes"][number];

/** The COSI resource holding a node's active machine config. */
const MACHINE_CONFIG = {
  type: "MachineConfigs.config.talos.dev",
  namespace: "config",
  id: "v1alpha1",
} as const;

/** A node's desired machine config, rendered on demand (the render holds secrets: never printed). */
export function desiredNodeConfig(
  tc: TalosConfigModule,
  config: LoadedConfig["config"],
  node: NodeConfig,
  options: { bundle: SecretsBundle; schematicId: string; tunnelToken?: Secret | undefined },
): { render(): string } {
  const machine = nodeMachineConfig(tc, config, node, options.bundle, {
    schematicId: options.schematicId,
    withTailscale: true,
    ...(options.tunnelToken ? { tunnelToken: options.tunnelToken.reveal() } : {}),
  });
  return { render: machine.render };
}

/** What one node looks like from here. */
export type NodeProbe = { state: "configured"; liveConfig: string } | { state: "maintenance" };

/**
 * How a node answers: over mTLS with our talosconfig (configured; its live machine config read over
 * COSI), else insecurely (maintenance mode). Throws when it does not answer at all.
 */
export async function probeNode(
  lib: TalosClientModule,
  talosconfig: string | undefined,
  endpoint: string,
  address: string,
  signal: AbortSignal,
): Promise<NodeProbe> {
  throwIfInterrupted(signal);
  if (talosconfig !== undefined) {
    const secure = lib.createTalosClient({
      talosconfig,
      endpoints: [endpoint],
      nodes: [address],
      timeoutMs: 10_000,
    });
    try {
      const resource = await secure.get({ ...MACHINE_CONFIG, node: address });
      if (typeof resource.spec === "string") return { state: "configured", liveConfig: resource.spec };
    } catch {
      // not configured with our CA: try maintenance mode
    } finally {
      secure.close();
    }
  }
  const insecure = lib.createTalosClient({ endpoints: [endpoint], insecure: true, timeoutMs: 10_000 });
  try {
    const [result] = await insecure.version();
    if (result?.ok) return { state: "maintenance" };
    throw result && !result.ok
      ? result.error
      : new HomelabError("COMMAND_FAILED", `node ${address} did not answer`);
  } finally {
    insecure.close();
  }
}

interface NodeChange {
  node: NodeConfig;
  how: "maintenance" | "mtls";
}

function nodeChange(
  node: NodeConfig,
  change: Omit<Change<NodeChange>, "id" | "step" | "subject">,
): Change<NodeChange> {
  return { id: `config:${node.name}`, step: "machine-config", subject: node.name, ...change };
}

function desiredFor(ctx: StepContext, node: NodeConfig): string {
  if (!ctx.found.bundle) throw new Error("machine-config: no secrets bundle (the secrets step runs first)");
  return desiredNodeConfig(ctx.libs.tc, ctx.config, node, {
    bundle: ctx.found.bundle,
    schematicId: schematicOf(ctx.libs.tc, ctx.config).id,
    tunnelToken: ctx.found.tunnelToken,
  }).render();
}

/** Live against desired, document by document, secrets redacted (like `talosctl apply --dry-run`). */
function configDiff(tc: TalosConfigModule, live: string, desired: string): string | undefined {
  const diff = tc.diffConfigs(tc.parseDocuments(live), tc.parseDocuments(desired));
  return diff.hasChanges ? tc.renderDiff(diff).trimEnd() : undefined;
}

async function planNode(ctx: StepContext, node: NodeConfig): Promise<Change<NodeChange> | PlanFailure> {
  const endpoint = ctx.target.talosEndpoint(node);
  let probe: NodeProbe;
  try {
    probe = await probeNode(ctx.libs.talos, ctx.found.talosconfig, endpoint, node.address, ctx.signal);
  } catch (error) {
    if (ctx.signal.aborted) throw error;
    const failure = failureOf("machine-config", `config:${node.name}`, node.name, error);
    return { ...failure, message: `${node.name} (${node.address}) did not answer: ${failure.message}` };
  }
  if (probe.state === "configured" && !ctx.found.bundle)
    return {
      id: `config:${node.name}`,
      step: "machine-config",
      subject: node.name,
      code: "STATE_INVALID",
      message: `${node.name} is configured but there is no secrets.yaml in ${ctx.stateDir}: its config cannot be compared`,
    };
  if (probe.state === "maintenance")
    return nodeChange(node, {
      action: "create",
      summary: "in maintenance mode: apply the machine config",
      data: { node, how: "maintenance" },
    });
  const diff = configDiff(ctx.libs.tc, probe.liveConfig, desiredFor(ctx, node));
  if (diff === undefined) return nodeChange(node, { action: "none", summary: "config matches" });
  return nodeChange(node, {
    action: "update",
    summary: "live config differs: re-apply over mTLS",
    diff,
    data: { node, how: "mtls" },
  });
}

/** Each node's machine config: read live over COSI, diffed, applied where it differs. */
export const machineConfigStep: Step<NodeChange> = {
  id: "machine-config",
  title: "machine configs",
  order: "control-planes-first",
  async plan(ctx) {
    const nodes = ctx.config.nodes;
    return mapBounded(nodes, ctx.parallel, async (node) => {
      const item = await planNode(ctx, node);
      if ("action" in item)
        ctx.event({
          at: new Date(ctx.clock.now()).toISOString(),
          step: "machine-config",
          id: item.id,
          status: "planned",
          message: `${node.name}: ${item.summary}`,
        });
      return item;
    });
  },
  async apply(ctx, change) {
    const { node, how } = change.data as NodeChange;
    const endpoint = ctx.target.talosEndpoint(node);
    const data = desiredFor(ctx, node);
    const { talos } = ctx.libs;
    const client =
      how === "maintenance"
        ? talos.createTalosClient({ endpoints: [endpoint], insecure: true, timeoutMs: 30_000 })
        : talos.createTalosClient({
            talosconfig: ctx.found.talosconfig as string,
            endpoints: [endpoint],
            nodes: [node.address],
            timeoutMs: 30_000,
          });
    try {
      const result = await client.applyConfiguration({
        data,
        mode: "auto",
        ...(how === "mtls" ? { node: node.address } : {}),
      });
      ctx.progress.nodes[node.name] = { appliedAt: new Date(ctx.clock.now()).toISOString() };
      await ctx.saveProgress();
      const done = how === "maintenance" ? "applied in maintenance mode" : "re-applied over mTLS";
      return `${node.name}: config ${done} (${result.modeDetails || result.mode || "auto"})`;
    } finally {
      client.close();
    }
  },
};
