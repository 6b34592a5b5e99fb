import type Cloudflare from "cloudflare";
import type { Clock } from "../../context.js";
import { HomelabError } from "../../errors.js";
import type { Secret } from "../../secret.js";
import type { ArgoBootstrapModule } from "../adapters/argo-bootstrap.js";
import type { CfTunnelModule, Plan } from "../adapters/cf-tunnel.js";
import type { TalosClientModule } from "../adapters/talos-client.js";
import type { SecretsBundle, TalosConfigModule } from "../adapters/talos-config.js";
import type { Output } from "../cli/output.js";
import type { LoadedConfig } from "../config/load.js";
import type { StateSecrets } from "../secrets/state-secrets.js";
import type { NodeTrust } from "./node-trust.js";
import type { Progress } from "./state.js";
import type { Target } from "./target.js";

/** What a change does to the live system. */
export type ChangeAction = "none" | "create" | "update" | "delete";

/** One planned change of one step (a per-node step has one per node). */
export interface Change<D = unknown> {
  /** `secrets`, `config:cp1`, `tunnel-routes` ... */
  id: string;
  /** The step that planned it. */
  step: string;
  /** What it is about: `cp1`, `tunnel homelab`, `argo-cd release`. */
  subject: string;
  action: ChangeAction;
  /** One line for the plan table. */
  summary: string;
  /** A human, redacted diff of live against desired (never a secret). */
  diff?: string;
  /** What `apply` needs (never printed). */
  data?: D;
}

/** A part of the live system that could not be read: the plan is incomplete, which is an error. */
export interface PlanFailure {
  id: string;
  step: string;
  subject: string;
  code: string;
  message: string;
  /** The error as thrown (kept for its hint; never printed raw). */
  error?: unknown;
}

/** Everything the steps share: the config, the seams and what earlier steps found or made. */
export interface StepContext {
  loaded: LoadedConfig;
  config: LoadedConfig["config"];
  stateDir: string;
  target: Target;
  out: Output;
  signal: AbortSignal;
  clock: Clock;
  /** How many nodes to read or change at once. */
  parallel: number;
  /** How long to wait for a node that does not answer (`--node-timeout`). */
  nodeTimeoutMs?: number;
  files: { secrets: string; talosconfig: string; kubeconfig: string };
  /** Where the machine secrets, talosconfig and kubeconfig are read and written (0600 files or the SOPS file). */
  state: StateSecrets;
  progress: Progress;
  saveProgress(): Promise<void>;
  libs: {
    tc: TalosConfigModule;
    talos: TalosClientModule;
    cf: CfTunnelModule | undefined;
    argo: ArgoBootstrapModule | undefined;
  };
  /** Filled as steps plan and apply; a later step reads what an earlier one found or made. */
  found: {
    secretsText?: string;
    bundle?: SecretsBundle;
    talosconfig?: string;
    tunnelToken?: Secret;
    tunnelId?: string;
    /** The tunnel, ingress, DNS and Access plan read by the tunnel step. */
    tunnelPlan?: Plan;
    cloudflare?: Cloudflare;
    kubeconfig?: string;
    /** Nodes planned for their first config (maintenance mode): etcd and health come after them. */
    installing: Set<string>;
    /** Ids of changes applied in this run (health waits when any node changed). */
    applied: Set<string>;
  };
  /** Per-node progress: a line per node on a terminal, events in the --json result. */
  event(event: StepEvent): void;
  /** Every event of this run, in order. */
  events: StepEvent[];
  /** Health wait limit. */
  healthTimeoutMs?: number;
  /** Who may receive a machine config in maintenance mode. */
  trust: NodeTrust;
  /** Environment for secret references (argocd.clusterSecrets `env:`). */
  env: Record<string, string | undefined>;
  /** Called with each item after it was applied or found done. */
  onStep: ((item: { id: string; title: string; changed: boolean; detail: string }) => void) | undefined;
}

/** One progress event (kept for --json, printed as a line otherwise). */
export interface StepEvent {
  at: string;
  step: string;
  id: string;
  status: "planned" | "applied" | "failed" | "interrupted";
  message: string;
}

/** One step of a pipeline: reads the live system in `plan`, changes it in `apply`. */
export interface Step<D = unknown> {
  id: string;
  title: string;
  /** Reads what is live and returns the changes (none when everything matches). */
  plan(ctx: StepContext): Promise<(Change<D> | PlanFailure)[]>;
  /** Makes one planned change; resolves to what was done. Changes of one step may run concurrently. */
  apply(ctx: StepContext, change: Change<D>): Promise<string>;
  /**
   * How the changes of this step are applied: one after another (default), all at once up to
   * `parallel`, or control planes first (each group at once up to `parallel`).
   */
  order?: "serial" | "parallel" | "control-planes-first";
  /** The step prints its own progress lines (a spinner with ✓), so the runner does not. */
  ownProgress?: boolean;
}

export function isFailure(item: Change | PlanFailure): item is PlanFailure {
  return "code" in item && !("action" in item);
}

/** Throws INTERRUPTED when the run was interrupted. */
export function throwIfInterrupted(signal: AbortSignal): void {
  if (signal.aborted) throw new HomelabError("INTERRUPTED", "interrupted");
}

/** Runs `fn` over `items` with at most `limit` at once; results in input order; the first error wins. */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed: { error: unknown } | undefined;
  const worker = async () => {
    while (failed === undefined && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i] as T, i);
      } catch (error) {
        failed ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failed) throw failed.error;
  return results;
}

/** The error of a plan read, as a failure line (codes of library errors are kept). */
export function failureOf(step: string, id: string, subject: string, error: unknown): PlanFailure {
  const code =
    typeof (error as { code?: unknown })?.code === "string" ? (error as { code: string }).code : "ERROR";
  const raw = (error as { rawMessage?: unknown })?.rawMessage;
  const message = typeof raw === "string" ? raw : error instanceof Error ? error.message : String(error);
  return { id, step, subject, code, message: message.split("\n")[0] ?? message, error };
}
