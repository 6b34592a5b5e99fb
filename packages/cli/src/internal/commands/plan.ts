import type { RunFn } from "../cli/spec.js";
import { writeFilesAtomic } from "../fs/atomic.js";
import { acquireLab, labStateDir } from "../lab/running.js";
import { type PlanResult, runPlan } from "../pipeline/plan.js";
import { realTarget } from "../pipeline/target.js";
import { execRunner, loadProject, stateDirOf } from "./common.js";
import { tofuFor } from "./infra.js";
import { renderFiles } from "./render.js";

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

/**
 * `homelab plan`: exit 0 no changes, 2 changes (a layer that cannot be planned, e.g. without
 * CLOUDFLARE_API_TOKEN or when `tofu plan` fails, is an "unknown" item and counts as one), 1 error.
 */
export const run: RunFn = async (inv) => {
  const { out, ctx, options } = inv;
  const loaded = await loadProject(inv, {
    resolveSecrets: true,
    placeholderSecrets: options.simulate === true,
  });
  if (options.simulate === true) {
    const stateDir = labStateDir(loaded, inv);
    const lab = await acquireLab(stateDir, loaded.config, loaded.dir);
    try {
      const result = await runPlan({ loaded, stateDir, target: lab.target, out, signal: ctx.signal });
      out.result(result, () => render(result));
      return result.changes > 0 ? 2 : 0;
    } finally {
      await lab.release();
    }
  }
  const stateDir = stateDirOf(inv, loaded);
  const result = await runPlan({
    loaded,
    stateDir,
    target: realTarget(ctx.env, execRunner(inv)),
    out,
    signal: ctx.signal,
  });
  const engine = typeof options.engine === "string" ? options.engine : loaded.config.engine;
  if (engine === "tofu") {
    // the tofu layer: render into infrastructure/, then `tofu plan` (-detailed-exitcode: 2 = changes)
    try {
      const { files } = await renderFiles(inv, loaded, { outDir: undefined });
      await writeFilesAtomic(files);
      const { runner } = await tofuFor(inv, loaded);
      await runner.init({ signal: ctx.signal });
      const tofu = await runner.plan({ signal: ctx.signal });
      for (const c of tofu.changes)
        result.items.push({
          layer: "tofu",
          subject: c.address,
          change: c.action === "create" ? "create" : "update",
          detail: c.action,
        });
      if (tofu.changes.length === 0)
        result.items.push({
          layer: "tofu",
          subject: "infrastructure/",
          change: "none",
          detail: "no changes",
        });
    } catch (error) {
      const message = (error as { rawMessage?: string }).rawMessage ?? (error as Error).message;
      result.items.push({
        layer: "tofu",
        subject: "infrastructure/",
        change: "unknown",
        detail: `tofu plan failed: ${message.split("\n")[0]}`,
      });
    }
    result.changes = result.items.filter((i) => i.change !== "none").length;
  }
  out.result(result, () => render(result));
  return result.changes > 0 ? 2 : 0;
};
