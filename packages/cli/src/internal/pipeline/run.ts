import { join } from "node:path";
import { type Clock, realClock } from "../../context.js";
import { HomelabError } from "../../errors.js";
import { loadArgoBootstrap } from "../adapters/argo-bootstrap.js";
import { loadCfTunnel } from "../adapters/cf-tunnel.js";
import { loadTalosClient } from "../adapters/talos-client.js";
import { loadTalosConfig } from "../adapters/talos-config.js";
import type { Output } from "../cli/output.js";
import type { LoadedConfig } from "../config/load.js";
import { stateSecretsOf } from "../secrets/state-secrets.js";
import type { NodeTrust } from "./node-trust.js";
import { readProgress, writeProgress } from "./state.js";
import {
  type Change,
  isFailure,
  mapBounded,
  type PlanFailure,
  type Step,
  type StepContext,
  type StepEvent,
  throwIfInterrupted,
} from "./step.js";
import type { Target } from "./target.js";

/** Default number of nodes read or changed at once. */
export const DEFAULT_PARALLEL = 8;

/** Options of {@link createStepContext}. */
export interface StepContextOptions {
  loaded: LoadedConfig;
  stateDir: string;
  target: Target;
  out: Output;
  signal: AbortSignal;
  /** Default: the real clock. */
  clock?: Clock;
  parallel?: number;
  healthTimeoutMs?: number;
  /** How long to wait for a node that does not answer (`--node-timeout`). */
  nodeTimeoutMs?: number;
  /** Who may receive a machine config in maintenance mode (default: nobody known, no pins, no prompt). */
  trust?: NodeTrust;
  /** Called with each item after it was applied or found done (tests interrupt here). */
  onStep?: (item: AppliedItem) => void;
  /** Environment for secret references (argocd.clusterSecrets `env:`); default none. */
  env?: Record<string, string | undefined>;
}

/** Loads the libraries the config needs and the progress file, and wires the seams. */
export async function createStepContext(options: StepContextOptions): Promise<StepContext> {
  const { loaded, stateDir, out } = options;
  const { config } = loaded;
  const [tc, talos, cf, argo, progress] = await Promise.all([
    loadTalosConfig(),
    loadTalosClient(),
    config.tunnel ? loadCfTunnel() : undefined,
    config.argocd ? loadArgoBootstrap() : undefined,
    readProgress(stateDir),
  ]);
  const events: StepEvent[] = [];
  const ctx: StepContext = {
    loaded,
    config,
    stateDir,
    target: options.target,
    out,
    signal: options.signal,
    clock: options.clock ?? realClock,
    parallel: options.parallel ?? DEFAULT_PARALLEL,
    ...(options.nodeTimeoutMs === undefined ? {} : { nodeTimeoutMs: options.nodeTimeoutMs }),
    files: {
      secrets: join(stateDir, "secrets.yaml"),
      talosconfig: join(stateDir, "talosconfig"),
      kubeconfig: join(stateDir, "kubeconfig"),
    },
    state: stateSecretsOf(loaded, stateDir, { simulated: options.target.kind === "lab" }),
    progress,
    saveProgress: () => writeProgress(stateDir, progress),
    libs: { tc, talos, cf, argo },
    found: { applied: new Set(), installing: new Set() },
    trust: options.trust ?? { reinstall: new Set(), pinned: {} },
    onStep: options.onStep,
    env: options.env ?? {},
    event: (e) => {
      events.push(e);
      if (e.status !== "planned")
        out.info(`${e.status === "applied" ? "✓" : e.status === "failed" ? "✗" : "!"} ${e.message}`);
    },
    events,
  };
  if (options.healthTimeoutMs !== undefined) ctx.healthTimeoutMs = options.healthTimeoutMs;
  return ctx;
}

/** One line of a plan (a change, or a part that could not be read). */
export type PlanItem = Change | PlanFailure;

/** What `plan` found, step by step. */
export interface PipelinePlan {
  steps: { step: Step; items: PlanItem[] }[];
}

/** Plans every step in order (a step reads what earlier steps found); never changes anything. */
export async function planSteps(ctx: StepContext, steps: readonly Step[]): Promise<PipelinePlan> {
  const planned: PipelinePlan["steps"] = [];
  for (const step of steps) {
    throwIfInterrupted(ctx.signal);
    planned.push({ step, items: await step.plan(ctx) });
  }
  return { steps: planned };
}

/** The changes of a plan (items that are not "none" and not failures). */
export function pendingChanges(plan: PipelinePlan): Change[] {
  return plan.steps.flatMap((s) => s.items.filter((i): i is Change => !isFailure(i) && i.action !== "none"));
}

/** The parts of a plan that could not be read. */
export function planFailures(plan: PipelinePlan): PlanFailure[] {
  return plan.steps.flatMap((s) => s.items.filter(isFailure));
}

/** One line per item of the result of `up`. */
export interface AppliedItem {
  id: string;
  title: string;
  changed: boolean;
  detail: string;
}

function isNodeOrEtcdChange(id: string): boolean {
  return id.startsWith("config:") || id === "bootstrap";
}

/**
 * Applies the planned changes in step order. A step's changes run one after another, or fanned out
 * up to `ctx.parallel` (control planes first where the step says so). Health is waited for whenever
 * a node or etcd changed. An interrupt stops before the next change and is reported as one.
 */
export async function applySteps(ctx: StepContext, plan: PipelinePlan): Promise<AppliedItem[]> {
  const failures = planFailures(plan);
  // one part not readable: its own error (code and hint); several: all of them at once
  if (failures.length === 1 && failures[0]?.error !== undefined) throw failures[0].error;
  if (failures.length > 0)
    throw new HomelabError(
      "COMMAND_FAILED",
      `the plan is incomplete, nothing was changed: ${failures.map((f) => `${f.subject}: ${f.message}`).join("; ")}`,
      { hint: "fix what could not be read (see `homelab plan`) and run again" },
    );
  const results: AppliedItem[] = [];
  const unchanged = (c: Change, title: string): AppliedItem => {
    const item = { id: c.id, title, changed: false, detail: c.summary };
    ctx.onStep?.(item);
    return item;
  };
  for (const { step, items } of plan.steps) {
    const changes = items as Change[];
    const todo = changes.filter((c) => c.action !== "none");
    const healthDue = step.id === "health" && [...ctx.found.applied].some(isNodeOrEtcdChange);
    if (todo.length === 0 && !healthDue) {
      for (const c of changes) results.push(unchanged(c, step.title));
      continue;
    }
    const run = async (change: Change): Promise<AppliedItem> => {
      throwIfInterrupted(ctx.signal);
      try {
        const detail = await step.apply(ctx, change);
        ctx.found.applied.add(change.id);
        const item = { id: change.id, title: step.title, changed: change.action !== "none", detail };
        if (!step.ownProgress)
          ctx.event({ at: iso(ctx), step: step.id, id: change.id, status: "applied", message: detail });
        ctx.onStep?.(item);
        return item;
      } catch (error) {
        const interrupted = ctx.signal.aborted;
        ctx.event({
          at: iso(ctx),
          step: step.id,
          id: change.id,
          status: interrupted ? "interrupted" : "failed",
          message: `${change.subject}: ${interrupted ? "interrupted" : "failed"}`,
        });
        throw interrupted ? new HomelabError("INTERRUPTED", "interrupted", { cause: error }) : error;
      }
    };
    if (step.id === "health") {
      const [c] = changes;
      if (c) results.push(await run(c));
      continue;
    }
    const untouched = changes.filter((c) => c.action === "none");
    if (step.order === "parallel" || step.order === "control-planes-first") {
      const groups =
        step.order === "control-planes-first"
          ? [
              todo.filter((c) => roleOf(ctx, c) === "controlplane"),
              todo.filter((c) => roleOf(ctx, c) !== "controlplane"),
            ]
          : [todo];
      const done: AppliedItem[] = [];
      for (const group of groups) done.push(...(await mapBounded(group, ctx.parallel, run)));
      const byId = new Map(
        [...done, ...untouched.map((c) => unchanged(c, step.title))].map((r) => [r.id, r]),
      );
      for (const c of changes) results.push(byId.get(c.id) as AppliedItem);
      continue;
    }
    for (const c of changes) {
      if (c.action === "none") results.push(unchanged(c, step.title));
      else results.push(await run(c));
    }
  }
  return results;
}

function roleOf(ctx: StepContext, change: Change): string | undefined {
  return ctx.config.nodes.find((n) => n.name === change.subject)?.role;
}

function iso(ctx: StepContext): string {
  return new Date(ctx.clock.now()).toISOString();
}

/** The plan as text: one line per item, diffs indented under their line. */
export function renderPlan(plan: PipelinePlan): string {
  const lines: string[] = [];
  for (const { step, items } of plan.steps) {
    for (const item of items) {
      if (isFailure(item)) {
        lines.push(`! ${step.id.padEnd(14)} ${item.subject}: cannot plan: [${item.code}] ${item.message}`);
        continue;
      }
      const mark = { none: "=", create: "+", update: "~", delete: "-" }[item.action];
      lines.push(`${mark} ${step.id.padEnd(14)} ${item.subject}: ${item.summary}`);
      if (item.diff) lines.push(...item.diff.split("\n").map((l) => `      ${l}`));
    }
  }
  return lines.join("\n");
}

/** The plan as JSON (no `data`: it may hold secrets). */
export function planToJson(plan: PipelinePlan) {
  return plan.steps.flatMap(({ step, items }) =>
    items.map((item) =>
      isFailure(item)
        ? {
            step: step.id,
            id: item.id,
            subject: item.subject,
            action: "error" as const,
            error: { code: item.code, message: item.message },
          }
        : {
            step: step.id,
            id: item.id,
            subject: item.subject,
            action: item.action,
            summary: item.summary,
            ...(item.diff ? { diff: item.diff } : {}),
          },
    ),
  );
}
