import { defineCommand } from "../../cli/command.js";
import { loadProject } from "../common.js";
import { INFRA_DIR_OPTION } from "../options.js";
import { renderAndInit } from "./tofu.js";

/** `homelab infra plan`: exit 0 no changes, 2 changes, 1 error. */
export const command = defineCommand({
  name: "plan",
  summary: "tofu plan (exit 0 no changes, 2 changes, 1 error)",
  options: { dir: INFRA_DIR_OPTION },
  async run(inv) {
    const { out, ctx } = inv;
    const loaded = await loadProject(inv, { resolveSecrets: true });
    const { runner } = await renderAndInit(inv, loaded, inv.options.dir);
    const step = out.step("tofu plan");
    const result = await runner
      .plan({ onProgress: (e) => e.message && step.update(e.message), signal: ctx.signal })
      .catch((error: unknown) => {
        step.fail();
        throw error;
      });
    step.done(result.hasChanges ? `${result.changes.length} change(s)` : "no changes");
    out.result(
      { hasChanges: result.hasChanges, changes: result.changes, summary: result.summary ?? null },
      () =>
        result.changes.length === 0
          ? "No changes."
          : result.changes.map((c) => `${c.action.padEnd(8)} ${c.address}`).join("\n"),
    );
    return result.hasChanges ? 2 : 0;
  },
});
