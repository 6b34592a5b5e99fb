import { DIRECT_STEPS } from "./engines.js";
import {
  createStepContext,
  type PipelinePlan,
  pendingChanges,
  planFailures,
  planSteps,
  type StepContextOptions,
} from "./run.js";
import type { Step, StepEvent } from "./step.js";

/** What `plan` found: the plan, how many changes and how many parts could not be read. */
export interface PlanOutcome {
  plan: PipelinePlan;
  changes: number;
  failures: number;
  /** Per-node progress, in the order it happened (`--json`). */
  events: StepEvent[];
}

/**
 * Plans every step of an engine against what is live, changing nothing: exit 0 when nothing
 * changes, 2 when something would, 1 when a part could not be read (an incomplete plan is an error).
 */
export async function runPlan(
  options: StepContextOptions & { steps?: readonly Step[] },
): Promise<PlanOutcome> {
  const ctx = await createStepContext(options);
  const plan = await planSteps(ctx, options.steps ?? DIRECT_STEPS);
  return {
    plan,
    changes: pendingChanges(plan).length,
    failures: planFailures(plan).length,
    events: ctx.events,
  };
}
