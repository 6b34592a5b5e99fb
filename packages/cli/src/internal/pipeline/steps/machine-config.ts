import type { Secret } from "../../../secret.js";
import type { RetryEvent, TalosClientModule } from "../../adapters/talos-client.js";
import type { SecretsBundle, TalosConfigModule } from "../../adapters/talos-config.js";
import type { LoadedConfig } from "../../config/load.js";
import { ensureSchematicRegistered } from "../../image-factory/register.js";
import { nodeMachineConfig, type StringifyDocuments, sharedStringify } from "../../plan/intent.js";
import { schematicOf } from "../../plan/schematic.js";
import { verifyMaintenanceNode } from "../node-trust.js";
import { DEFAULT_NODE_TIMEOUT_MS, isNotAnswering, waitForNode } from "../node-wait.js";
import {
  type Change,
  failureOf,
  isFailure,
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
): { render(stringify?: StringifyDocuments): string } {
  const machine = nodeMachineConfig(tc, config, node, options.bundle, {
    schematicId: options.schematicId,
    withTailscale: true,
    ...(options.tunnelToken ? { tunnelToken: options.tunnelToken.reveal() } : {}),
  });
  return { render: machine.render };
}

/** What one node looks like from here. */
export type NodeProbe = { state: "configured"; liveConfig: string } | { state: "unverified"; reason: string };

/**
 * "configured" when the node answers over mTLS with this cluster's CA (its live machine config read
 * over COSI); otherwise "unverified" with the reason: it may be in maintenance mode, or another
 * machine, which {@link verifyMaintenanceNode} decides before anything is sent. A node where nothing
 * answers (powered off, booting) throws its UNAVAILABLE or DEADLINE_EXCEEDED, for {@link waitForNode}.
 */
export async function probeNode(
  lib: TalosClientModule,
  talosconfig: string | undefined,
  endpoint: string,
  address: string,
  signal: AbortSignal,
): Promise<NodeProbe> {
  throwIfInterrupted(signal);
  if (talosconfig === undefined) return { state: "unverified", reason: "no talosconfig yet" };
  const secure = lib.createTalosClient({
    talosconfig,
    endpoints: [endpoint],
    nodes: [address],
    timeoutMs: 10_000,
  });
  try {
    const resource = await secure.get({ ...MACHINE_CONFIG, node: address });
    if (typeof resource.spec === "string") return { state: "configured", liveConfig: resource.spec };
    return { state: "unverified", reason: "no machine config" };
  } catch (error) {
    if (isNotAnswering(error)) throw error;
    return { state: "unverified", reason: describeCode(error) };
  } finally {
    secure.close();
  }
}

/** Reads live machine configs through the control planes; undefined for a node it could not read. */
type RoutedRead = (node: NodeConfig) => Promise<string | undefined>;

/**
 * Reads each node's live machine config through the talosconfig's control-plane endpoints, the
 * `node` metadata routing the read (as `talosctl -n NODE` does): one connection for every node
 * instead of one each. apid dials the node with its own certificate and verifies the node's against
 * this cluster's CA, so an answer proves the same as a direct mTLS read. A node it cannot read
 * (powered off, in maintenance mode, another cluster's) gets undefined and is probed directly, which
 * finds the reason.
 */
function routedReader(ctx: StepContext): { read: RoutedRead; close(): void } | undefined {
  const talosconfig = ctx.found.talosconfig;
  const cps = ctx.config.nodes.filter((n) => n.role === "controlplane");
  if (talosconfig === undefined || cps.length === 0) return undefined;
  const client = ctx.libs.talos.createTalosClient({
    talosconfig,
    endpoints: cps.map((n) => ctx.target.talosEndpoint(n)),
    timeoutMs: 10_000,
    // a read that fails is not retried here: the direct probe waits for the node and names the reason
    readAttempts: 1,
  });
  // a read that ran into the deadline stops the routing: the other nodes are asked directly at once
  let hung = false;
  return {
    async read(node) {
      throwIfInterrupted(ctx.signal);
      if (hung) return undefined;
      try {
        const resource = await client.get({ ...MACHINE_CONFIG, node: node.address, signal: ctx.signal });
        return typeof resource.spec === "string" ? resource.spec : undefined;
      } catch (error) {
        if ((error as { code?: unknown })?.code === "DEADLINE_EXCEEDED") hung = true;
        return undefined;
      }
    },
    close: () => client.close(),
  };
}

function describeCode(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === "string" ? code : "no answer";
}

/**
 * Where `node` is known as configured, or undefined: the state recorded an apply, or (for a
 * control plane) another control plane's etcd lists it as a member.
 */
async function knownConfigured(ctx: StepContext, node: NodeConfig): Promise<string | undefined> {
  const applied = ctx.progress.nodes[node.name];
  if (applied) return `the state recorded its config applied at ${applied.appliedAt}`;
  const talosconfig = ctx.found.talosconfig;
  if (node.role !== "controlplane" || talosconfig === undefined) return undefined;
  const cps = ctx.config.nodes.filter((n) => n.role === "controlplane");
  for (const cp of cps) {
    throwIfInterrupted(ctx.signal);
    const endpoint = ctx.target.talosEndpoint(cp);
    const client = ctx.libs.talos.createTalosClient({ talosconfig, endpoints: [endpoint], timeoutMs: 5_000 });
    try {
      const [answer] = await client.version();
      if (!answer?.ok) continue;
      const members = await client.etcdMemberList();
      if (members.some((m) => m.hostname === node.name)) return "etcd lists it as a member";
      return undefined;
    } catch {
      // that control plane is not configured or not reachable: ask the next one
    } finally {
      client.close();
    }
  }
  return undefined;
}

/** The checks of {@link verifyMaintenanceNode} for one node; `confirm` only when applying. */
async function verify(ctx: StepContext, node: NodeConfig, reason: string, options: { ask: boolean }) {
  const { confirm, ...withoutConfirm } = ctx.trust;
  return verifyMaintenanceNode({
    node,
    endpoint: ctx.target.talosEndpoint(node),
    mtlsError: reason,
    knownConfigured: await knownConfigured(ctx, node),
    recorded: ctx.progress.fingerprints?.[node.name],
    vouched: ctx.target.maintenanceFingerprint?.(node),
    trust: options.ask && confirm ? { ...withoutConfirm, confirm } : withoutConfirm,
    signal: ctx.signal,
  });
}

interface NodeChange {
  node: NodeConfig;
  how: "maintenance" | "mtls";
  /** Why the node did not answer over mTLS (maintenance only). */
  reason?: string;
}

function nodeChange(
  node: NodeConfig,
  change: Omit<Change<NodeChange>, "id" | "step" | "subject">,
): Change<NodeChange> {
  return { id: `config:${node.name}`, step: "machine-config", subject: node.name, ...change };
}

function desiredFor(ctx: StepContext, node: NodeConfig, stringify?: StringifyDocuments): string {
  if (!ctx.found.bundle) throw new Error("machine-config: no secrets bundle (the secrets step runs first)");
  return desiredNodeConfig(ctx.libs.tc, ctx.config, node, {
    bundle: ctx.found.bundle,
    schematicId: schematicOf(ctx.libs.tc, ctx.config).id,
    tunnelToken: ctx.found.tunnelToken,
  }).render(stringify);
}

/** Live against desired, document by document, secrets redacted (like `talosctl apply --dry-run`). */
function configDiff(tc: TalosConfigModule, live: string, desired: string): string | undefined {
  // the same text is the same config: no parse (a node re-encodes it, so this is the fast path only)
  if (live === desired) return undefined;
  const diff = tc.diffConfigs(tc.parseDocuments(live), tc.parseDocuments(desired));
  return diff.hasChanges ? tc.renderDiff(diff).trimEnd() : undefined;
}

async function planNode(
  ctx: StepContext,
  node: NodeConfig,
  shared: { routed: RoutedRead | undefined; stringify: StringifyDocuments },
): Promise<Change<NodeChange> | PlanFailure> {
  const endpoint = ctx.target.talosEndpoint(node);
  // a node that does not answer (powered off, still booting) is waited for, then named
  const waitOptions = {
    node,
    endpoint,
    timeoutMs: ctx.nodeTimeoutMs ?? DEFAULT_NODE_TIMEOUT_MS,
    clock: ctx.clock,
    signal: ctx.signal,
    onRetry: (reason: string, waitMs: number) => ctx.out.retry({ source: node.name, reason, waitMs }),
  };
  const liveConfig = await shared.routed?.(node);
  let probe: NodeProbe;
  try {
    probe =
      liveConfig !== undefined
        ? { state: "configured", liveConfig }
        : await waitForNode(
            () => probeNode(ctx.libs.talos, ctx.found.talosconfig, endpoint, node.address, ctx.signal),
            waitOptions,
          );
  } catch (error) {
    if (ctx.signal.aborted) throw error;
    return failureOf("machine-config", `config:${node.name}`, node.name, error);
  }
  if (probe.state === "unverified") {
    // nothing is sent while planning: the fingerprint is checked (and asked for) again before the apply;
    // a node that fails mTLS because nothing answers at all is waited for here too
    try {
      const verified = await waitForNode(() => verify(ctx, node, probe.reason, { ask: false }), waitOptions);
      ctx.found.installing.add(node.name);
      return nodeChange(node, {
        action: "create",
        summary: `in maintenance mode (certificate ${verified.fingerprint}, ${verified.how === "accepted" ? "seen for the first time" : verified.how}): apply the machine config`,
        data: { node, how: "maintenance", reason: probe.reason },
      });
    } catch (error) {
      if (ctx.signal.aborted) throw error;
      return failureOf("machine-config", `config:${node.name}`, node.name, error);
    }
  }
  if (!ctx.found.bundle)
    return {
      id: `config:${node.name}`,
      step: "machine-config",
      subject: node.name,
      code: "STATE_INVALID",
      message: `${node.name} is configured but there is no secrets.yaml in ${ctx.stateDir}: its config cannot be compared`,
    };
  const diff = configDiff(ctx.libs.tc, probe.liveConfig, desiredFor(ctx, node, shared.stringify));
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
    const routed = routedReader(ctx);
    const shared = { routed: routed?.read, stringify: sharedStringify(ctx.libs.tc) };
    try {
      return await mapBounded(nodes, ctx.parallel, async (node) => {
        const item = await planNode(ctx, node, shared);
        ctx.event({
          at: new Date(ctx.clock.now()).toISOString(),
          step: "machine-config",
          id: item.id,
          ...(isFailure(item)
            ? { status: "failed", message: `${node.name}: cannot plan: [${item.code}] ${item.message}` }
            : { status: "planned", message: `${node.name}: ${item.summary}` }),
        });
        return item;
      });
    } finally {
      routed?.close();
    }
  },
  async apply(ctx, change) {
    await ensureSchematicRegistered(
      ctx.target.imageFactory,
      schematicOf(ctx.libs.tc, ctx.config),
      ctx.signal,
    );
    const { node, how, reason } = change.data as NodeChange;
    const endpoint = ctx.target.talosEndpoint(node);
    const data = desiredFor(ctx, node);
    const { talos } = ctx.libs;
    let fingerprint: string | undefined;
    if (how === "maintenance") {
      const verified = await verify(ctx, node, reason ?? "not configured", { ask: true });
      fingerprint = verified.fingerprint;
      if (ctx.progress.fingerprints?.[node.name] !== fingerprint) {
        ctx.progress.fingerprints = { ...ctx.progress.fingerprints, [node.name]: fingerprint };
        await ctx.saveProgress();
      }
      ctx.out.debug(`${node.name}: maintenance-mode certificate ${fingerprint} (${verified.how})`);
    }
    const onRetry = (e: RetryEvent) =>
      ctx.out.retry({
        source: `${node.name} (${node.address})`,
        reason: `${e.error.code} on ${e.method.split("/").at(-1)}`,
        waitMs: e.delayMs,
      });
    const client =
      fingerprint !== undefined
        ? talos.createTalosClient({
            endpoints: [endpoint],
            insecure: true,
            spkiPins: [fingerprint],
            timeoutMs: 30_000,
            onRetry,
          })
        : talos.createTalosClient({
            talosconfig: ctx.found.talosconfig as string,
            endpoints: [endpoint],
            nodes: [node.address],
            timeoutMs: 30_000,
            onRetry,
          });
    try {
      const result = await client.applyConfiguration({
        data,
        mode: "auto",
        ...(fingerprint === undefined ? { node: node.address } : {}),
      });
      ctx.progress.nodes[node.name] = { appliedAt: new Date(ctx.clock.now()).toISOString() };
      await ctx.saveProgress();
      const done =
        fingerprint !== undefined
          ? "applied in maintenance mode (certificate verified)"
          : "re-applied over mTLS";
      return `${node.name}: config ${done} (${result.modeDetails || result.mode || "auto"})`;
    } finally {
      client.close();
    }
  },
};
