import type { Clock } from "../../context.js";
import type { Output } from "../cli/output.js";
import type { LoadedConfig } from "../config/load.js";
import { DIRECT_STEPS } from "./engines.js";
import type { NodeTrust } from "./node-trust.js";
import { createStepContext, type PipelinePlan, pendingChanges, planFailures, planSteps } from "./run.js";
import type { Step } from "./step.js";
import type { Target } from "./target.js";

/** What `plan` found: the plan, how many changes and how many parts could not be read. */
export interface PlanOutcome {
  plan: PipelinePlan;
  changes: number;
  failures: number;
}

/**
 * Plans every step of an engine against what is live, changing nothing: exit 0 when nothing
 * changes, 2 when something would, 1 when a part could not be read (an incomplete plan is an error).
 */
export async function runPlan(options: {
  loaded: LoadedConfig;
  stateDir: string;
  target: Target;
  out: Output;
  signal: AbortSignal;
  clock: Clock;
  parallel?: number;
  trust?: NodeTrust;
  steps?: readonly Step[];
  /** Environment for secret references (argocd.clusterSecrets `env:`); default none. */
  env?: Record<string, string | undefined>;
}): Promise<PlanOutcome> {
  const ctx = await createStepContext(options);
  const plan = await planSteps(ctx, options.steps ?? DIRECT_STEPS);
  return { plan, changes: pendingChanges(plan).length, failures: planFailures(plan).length };
}
