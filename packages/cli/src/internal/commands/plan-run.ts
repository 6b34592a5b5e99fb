import type { Invocation } from "../cli/command.js";
import { checkChartVersion } from "../config/preflight.js";
import { acquireLab, labStateDir } from "../lab/running.js";
import { gitopsCheckout } from "../pipeline/argo-settings.js";
import { type PlanOutcome, runPlan } from "../pipeline/plan.js";
import { type Change, failureOf, type PlanFailure, type Step } from "../pipeline/step.js";
import { realTarget } from "../pipeline/target.js";
import { cloudflareApiToken } from "../secrets/cloudflare-token.js";
import { execRunner, freshLabTrust, loadProject, nodeTimeoutOf, parallelOf, stateDirOf } from "./common.js";
import { renderAndInit } from "./infra/tofu.js";
import type { PLAN_OPTIONS } from "./options.js";

async function render(outcome: PlanOutcome): Promise<string> {
  const { renderPlan } = await import("../pipeline/run.js");
  const lines = [renderPlan(outcome.plan), ""];
  if (outcome.failures > 0)
    lines.push(`${outcome.failures} part(s) could not be planned (see '!' lines): the plan is incomplete.`);
  else if (outcome.changes === 0) lines.push("No changes.");
  else lines.push(`${outcome.changes} change(s).`);
  return lines.join("\n");
}

async function json(outcome: PlanOutcome) {
  const { planToJson } = await import("../pipeline/run.js");
  return {
    changes: outcome.changes,
    failures: outcome.failures,
    items: planToJson(outcome.plan),
    events: outcome.events,
  };
}

/** Exit 0 no changes, 2 changes, 1 when any part could not be planned (like `terraform plan -detailed-exitcode`). */
function exitOf(outcome: PlanOutcome): number {
  return outcome.failures > 0 ? 1 : outcome.changes > 0 ? 2 : 0;
}

/** The tofu engine's plan: render into infrastructure/, `tofu plan` (a failed plan is an error), then Argo CD. */
async function tofuSteps(
  inv: Invocation<typeof PLAN_OPTIONS>,
  loaded: Parameters<typeof renderAndInit>[1],
): Promise<Step[]> {
  const { argocdStep } = await import("../pipeline/steps/argocd.js");
  const { kubeconfigStep } = await import("../pipeline/steps/kubeconfig.js");
  const tofu: Step = {
    id: "tofu",
    title: "tofu",
    async plan(): Promise<(Change | PlanFailure)[]> {
      try {
        const { runner } = await renderAndInit(inv, loaded);
        const result = await runner.plan({ signal: inv.ctx.signal });
        if (result.changes.length === 0)
          return [
            { id: "tofu", step: "tofu", subject: "infrastructure/", action: "none", summary: "no changes" },
          ];
        return result.changes.map((c) => ({
          id: `tofu:${c.address}`,
          step: "tofu",
          subject: c.address,
          action: c.action === "create" ? "create" : c.action === "delete" ? "delete" : "update",
          summary: c.action,
        }));
      } catch (error) {
        return [failureOf("tofu", "tofu", "infrastructure/", error)];
      }
    },
    async apply() {
      throw new Error("the tofu plan step is applied by `homelab up --engine tofu`");
    },
  };
  return [tofu, kubeconfigStep as Step, argocdStep];
}

/** `homelab plan`: every step planned against what is live; exit 0 none, 2 changes, 1 error. */
export async function runPlanCommand(inv: Invocation<typeof PLAN_OPTIONS>): Promise<number> {
  const { out, ctx, options } = inv;
  const parallel = parallelOf(options.parallel);
  const nodeTimeoutMs = nodeTimeoutOf(options["node-timeout"]);
  const loaded = await loadProject(inv, {
    resolveSecrets: true,
    placeholderSecrets: options.simulate === true,
    checkReferences: true,
  });
  const common = {
    loaded,
    out,
    signal: ctx.signal,
    clock: ctx.clock,
    parallel,
    env: ctx.env,
    ...(nodeTimeoutMs === undefined ? {} : { nodeTimeoutMs }),
  };
  let outcome: PlanOutcome;
  if (options.simulate === true) {
    const stateDir = labStateDir(loaded, inv);
    const lab = await acquireLab(stateDir, loaded.config, gitopsCheckout(loaded));
    try {
      await checkChartVersion({
        loaded,
        helm: lab.target.helm,
        warn: (m) => out.warn(m),
        signal: ctx.signal,
      });
      outcome = await runPlan({
        ...common,
        stateDir,
        target: lab.target,
        // a fresh lab is new hardware (see `up --simulate`)
        ...(lab.fresh ? { trust: freshLabTrust(lab.info, { reinstall: new Set(), pinned: {} }) } : {}),
      });
    } finally {
      await lab.release();
    }
  } else {
    await checkChartVersion({ loaded, helm: execRunner(inv), warn: (m) => out.warn(m), signal: ctx.signal });
    const engine = options.engine ?? loaded.config.engine;
    const steps = engine === "tofu" ? await tofuSteps(inv, loaded) : undefined;
    outcome = await runPlan({
      ...common,
      stateDir: stateDirOf(inv, loaded),
      target: realTarget(ctx.env, execRunner(inv), await cloudflareApiToken(loaded, ctx.env)),
      ...(steps ? { steps } : {}),
    });
  }
  const doc = await json(outcome);
  const text = await render(outcome);
  out.result(doc, text);
  return exitOf(outcome);
}
