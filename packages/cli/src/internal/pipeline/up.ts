import { HomelabError } from "../../errors.js";
import { DIRECT_STEPS } from "./engines.js";
import {
  type AppliedItem,
  applySteps,
  createStepContext,
  type PipelinePlan,
  pendingChanges,
  planFailures,
  planSteps,
  type StepContextOptions,
} from "./run.js";
import type { StepContext, StepEvent } from "./step.js";

/** One thing `up` did (or found already done). */
export type UpStep = AppliedItem;

/** What `up` returns. */
export interface UpResult {
  cluster: string;
  engine: "direct";
  simulated: boolean;
  stateDir: string;
  changed: number;
  steps: UpStep[];
  events: StepEvent[];
  files: { talosconfig: string; kubeconfig: string; secrets: string };
}

/** Options of {@link runUp}: the step context's, plus the question asked before changing anything. */
export interface RunUpOptions extends StepContextOptions {
  /**
   * Called with the plan when it has changes, before anything is changed; resolving false stops
   * with nothing changed (the result then says `declined`).
   */
  confirm?: (plan: PipelinePlan) => Promise<boolean>;
}

/**
 * The direct engine of `homelab up`: plans every step against what is live (secrets, tunnel,
 * talosconfig, each node's machine config, etcd, health, kubeconfig, tunnel routes, Argo CD), then
 * applies only what differs, in that order. A second run plans no changes and changes nothing; an
 * interrupted run resumes, because the next plan reads where the last one stopped.
 */
export async function runUp(options: RunUpOptions): Promise<UpResult & { declined?: true }> {
  const ctx = await createStepContext(options);
  const plan = await planSteps(ctx, DIRECT_STEPS);
  const failures = planFailures(plan);
  if (
    failures.length === 0 &&
    pendingChanges(plan).length > 0 &&
    options.confirm &&
    !(await options.confirm(plan))
  )
    return { ...result(options, filesOf(ctx), [], ctx.events), declined: true };
  const missing = failures.find((f) => f.code === "MISSING_CREDENTIALS");
  if (missing)
    throw new HomelabError("MISSING_CREDENTIALS", missing.message, {
      hint: "create an API token with Cloudflare Tunnel:Edit, DNS:Edit and Access: Apps and Policies:Edit",
    });
  const steps = await applySteps(ctx, plan);
  ctx.progress.completedAt = new Date(ctx.clock.now()).toISOString();
  await ctx.saveProgress();
  return result(options, filesOf(ctx), steps, ctx.events);
}

/** Where the state secrets are: 0600 paths, or `<sops file>#<key path>` when encrypted. */
function filesOf(ctx: StepContext): UpResult["files"] {
  const { state } = ctx;
  return {
    secrets: state.describe("secrets.yaml"),
    talosconfig: state.describe("talosconfig"),
    kubeconfig: state.describe("kubeconfig"),
  };
}

function result(
  options: RunUpOptions,
  files: UpResult["files"],
  steps: UpStep[],
  events: StepEvent[],
): UpResult {
  return {
    cluster: options.loaded.config.cluster.name,
    engine: "direct",
    simulated: options.target.kind === "lab",
    stateDir: options.stateDir,
    changed: steps.filter((s) => s.changed).length,
    steps,
    events,
    files,
  };
}
