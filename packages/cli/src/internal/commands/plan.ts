import type { RunFn } from "../cli/spec.js";
import { acquireLab, labStateDir } from "../lab/running.js";
import { type PlanResult, runPlan } from "../pipeline/plan.js";
import { realTarget } from "../pipeline/target.js";
import { loadProject, stateDirOf } from "./common.js";

function render(result: PlanResult): string {
  const lines = result.items.map((i) => {
    const mark = i.change === "none" ? "=" : i.change === "create" ? "+" : i.change === "update" ? "~" : "?";
    return `${mark} ${i.layer.padEnd(7)} ${i.subject}: ${i.detail.replace(/\n/g, "\n            ")}`;
  });
  lines.push(
    "",
    result.changes === 0 ? "No changes." : `${result.changes} change(s). Run \`homelab up\` to apply.`,
  );
  return lines.join("\n");
}

/** `homelab plan`: exit 0 no changes, 2 changes, 1 error. */
export const run: RunFn = async (inv) => {
  const { out, ctx, options } = inv;
  const loaded = await loadProject(inv, {
    resolveSecrets: true,
    placeholderSecrets: options.simulate === true,
  });
  if (options.simulate === true) {
    const stateDir = labStateDir(loaded, inv);
    const lab = await acquireLab(stateDir, loaded.config);
    try {
      const result = await runPlan({ loaded, stateDir, target: lab.target, out, signal: ctx.signal });
      out.result(result, () => render(result));
      return result.changes > 0 ? 2 : 0;
    } finally {
      await lab.release();
    }
  }
  const stateDir = stateDirOf(inv, loaded);
  const helm = (command: string, args: string[]) => ctx.exec(command, args, { env: ctx.env });
  const result = await runPlan({
    loaded,
    stateDir,
    target: realTarget(ctx.env, helm, loaded.config),
    out,
    signal: ctx.signal,
  });
  out.result(result, () => render(result));
  return result.changes > 0 ? 2 : 0;
};
