import { defineCommand } from "../../cli/command.js";
import { confirm, loadProject } from "../common.js";
import { INFRA_DIR_OPTION } from "../options.js";
import { tofuFor } from "./tofu.js";

/** `homelab infra destroy`: always asks (or --yes). */
export const command = defineCommand({
  name: "destroy",
  summary: "tofu destroy (asks first; --yes without a TTY)",
  options: { dir: INFRA_DIR_OPTION },
  async run(inv) {
    const { out, ctx } = inv;
    const loaded = await loadProject(inv, { resolveSecrets: true });
    const { runner, dir } = await tofuFor(inv, loaded, inv.options.dir);
    if (!(await confirm(inv, `destroy everything tofu manages in ${dir}?`))) {
      out.info("aborted: nothing changed");
      return 1;
    }
    const step = out.step("tofu destroy");
    const result = await runner
      .destroy({ onProgress: (e) => e.message && step.update(e.message), signal: ctx.signal })
      .catch((error: unknown) => {
        step.fail();
        throw error;
      });
    step.done("tofu destroy");
    out.result({ destroyed: true, summary: result.summary ?? null }, "tofu destroy: done");
    return 0;
  },
});
