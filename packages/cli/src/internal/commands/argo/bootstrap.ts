import { defineCommand } from "../../cli/command.js";
import { applyArgoCd, planArgoCd } from "../../pipeline/steps/argocd.js";
import { loadProject } from "../common.js";
import { KUBECONFIG_OPTION } from "../options.js";
import { argocdOf, argoInputsOf } from "./common.js";

/** `homelab argo bootstrap`: the same Argo CD step `up` and `plan` run. */
export const command = defineCommand({
  name: "bootstrap",
  summary: "Install Argo CD with Helm, wait for it, apply the cluster secrets and the root app",
  options: {
    kubeconfig: KUBECONFIG_OPTION,
    force: {
      type: "boolean",
      description:
        "Reinstall Argo CD's Helm release even when it looks up to date (other workloads untouched)",
    },
  },
  async run(inv) {
    const { out } = inv;
    const loaded = await loadProject(inv, { resolveSecrets: false });
    const argocd = argocdOf(loaded);
    const force = inv.options.force === true;
    const inputs = { ...(await argoInputsOf(inv, loaded)), force };
    const planned = await planArgoCd(inputs);
    if ("action" in planned && planned.diff) out.info(planned.diff);
    const step = out.step(`Argo CD ${argocd.chartVersion}${force ? " (forced reinstall)" : ""}`);
    const result = await applyArgoCd(inputs, step).catch((error: unknown) => {
      if (inv.ctx.signal.aborted) step.interrupted();
      else step.fail();
      throw error;
    });
    step.done(
      result.unchanged
        ? "Argo CD up to date; root app Synced + Healthy"
        : "Argo CD installed; root app Synced + Healthy",
    );
    out.result(
      result,
      () => `Argo CD ${argocd.chartVersion}: ${result.unchanged ? "up to date" : "installed"}`,
    );
    return 0;
  },
});
