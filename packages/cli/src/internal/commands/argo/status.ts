import { defineCommand } from "../../cli/command.js";
import { argoSettings } from "../../pipeline/argo-settings.js";
import { KUBECONFIG_OPTION } from "../options.js";
import { argoReleaseOf } from "./common.js";

/** `homelab argo status`: read-only; what a bootstrap would change, and the root app's sync and health. */
export const command = defineCommand({
  name: "status",
  summary: "Read-only: the release's chart and values, the root application's sync and health",
  options: { kubeconfig: KUBECONFIG_OPTION },
  async run(inv) {
    const { loaded, argocd, inputs, helm } = await argoReleaseOf(inv);
    const { argo } = inputs;
    const settings = await argoSettings({
      argo,
      loaded,
      env: inputs.env,
      placeholderSecrets: inputs.lab,
      skipUnresolvedSecrets: true,
    });
    const plan = await argo.planArgoCd({
      helm,
      kubeconfig: inputs.kubeconfig as string,
      ...settings.bootstrap,
      signal: inv.ctx.signal,
    });
    const namespace = argocd.namespace;
    inv.out.result(plan, () => {
      const live = plan.release.live;
      const root = plan.rootApplication.status;
      return [
        `Helm ${plan.helmVersion}; release ${namespace}/${plan.release.name}: ${live ? `chart ${live.chartVersion}, ${live.status}, revision ${live.revision}` : "not installed"} (homelab.yaml: ${plan.release.chartVersion}${plan.release.valuesChanged ? ", values differ" : ""})`,
        `root app ${namespace}/${plan.rootApplication.name}: ${root ? `${root.sync}/${root.health}${root.done ? "" : ` (waiting for ${root.waitingFor.join(", ")})`}` : "not applied"}`,
        ...plan.clusterSecrets.map(
          (s) =>
            `secret ${s.namespace}/${s.name}: ${s.action === "none" ? "up to date" : `would ${s.action}`}`,
        ),
        plan.changed ? "`homelab argo bootstrap` would change the cluster" : "nothing to change",
      ].join("\n");
    });
    return 0;
  },
});
