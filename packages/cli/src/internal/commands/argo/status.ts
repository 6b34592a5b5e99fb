import { defineCommand } from "../../cli/command.js";
import { isFailure } from "../../pipeline/step.js";
import { planArgoCd } from "../../pipeline/steps/argocd.js";
import { loadProject } from "../common.js";
import { KUBECONFIG_OPTION } from "../options.js";
import { argoInputsOf } from "./common.js";

/** `homelab argo status`: the Argo CD step's plan (read only): exit 0 as declared, 2 differs, 1 error. */
export const command = defineCommand({
  name: "status",
  summary:
    "Argo CD release and root application against homelab.yaml (exit 0 as declared, 2 differs, 1 error)",
  options: { kubeconfig: KUBECONFIG_OPTION },
  async run(inv) {
    const loaded = await loadProject(inv, { resolveSecrets: false });
    const item = await planArgoCd(await argoInputsOf(inv, loaded));
    if (isFailure(item)) {
      inv.out.result(
        { unchanged: false, error: { code: item.code, message: item.message } },
        () => `cannot read Argo CD: [${item.code}] ${item.message}`,
      );
      return 1;
    }
    inv.out.result(
      {
        unchanged: item.action === "none",
        action: item.action,
        summary: item.summary,
        ...(item.diff ? { diff: item.diff } : {}),
      },
      () => [`Argo CD: ${item.summary}`, ...(item.diff ? [item.diff] : [])].join("\n"),
    );
    return item.action === "none" ? 0 : 2;
  },
});
