import { defineCommand } from "../../cli/command.js";
import { confirm, loadProject } from "../common.js";
import { INFRA_DIR_OPTION } from "../options.js";
import { renderAndInit } from "./tofu.js";

/** `homelab infra apply`: shows tofu's plan, asks, then applies exactly that plan's intent. */
export const command = defineCommand({
  name: "apply",
  summary: "Show the tofu plan, ask, then tofu apply",
  options: { dir: INFRA_DIR_OPTION },
  async run(inv) {
    const { out, ctx } = inv;
    const loaded = await loadProject(inv, { resolveSecrets: true });
    const { runner, dir } = await renderAndInit(inv, loaded, inv.options.dir);
    const plan = await runner.plan({ signal: ctx.signal });
    if (!plan.hasChanges) {
      out.result({ applied: false, summary: null }, "No changes.");
      return 0;
    }
    out.info(plan.changes.map((c) => `  ${c.action.padEnd(8)} ${c.address}`).join("\n"));
    if (!(await confirm(inv, `apply these ${plan.changes.length} change(s) in ${dir}?`))) {
      out.info("aborted: nothing changed");
      return 1;
    }
    const step = out.step("tofu apply");
    const result = await runner
      .apply({ onProgress: (e) => e.message && step.update(e.message), signal: ctx.signal })
      .catch((error: unknown) => {
        step.fail();
        throw error;
      });
    step.done("tofu apply");
    out.result({ applied: true, summary: result.summary ?? null }, "tofu apply: done");
    return 0;
  },
});
