import { HomelabError } from "../../../errors.js";
import { defineCommand } from "../../cli/command.js";
import { argoSettings } from "../../pipeline/argo-settings.js";
import { confirm, loadProject } from "../common.js";
import { KUBECONFIG_OPTION } from "../options.js";
import { argocdOf, argoInputsOf } from "./common.js";

/** `homelab argo upgrade --version X`: shows the chart change, asks (--yes skips), upgrades. */
export const command = defineCommand({
  name: "upgrade",
  summary: "Show the chart change, ask, run the Helm upgrade and wait for the rollouts",
  options: {
    version: { type: "string", valueName: "X", description: "Chart version to upgrade to" },
    kubeconfig: KUBECONFIG_OPTION,
  },
  async run(inv) {
    const { out } = inv;
    const version = inv.options.version;
    if (!version) throw new HomelabError("USAGE", "argo upgrade needs --version X (the chart version)");
    const loaded = await loadProject(inv, { resolveSecrets: false });
    const argocd = argocdOf(loaded);
    const inputs = await argoInputsOf(inv, loaded);
    const { argo } = inputs;
    const { join } = await import("node:path");
    const settings = await argoSettings({
      argo,
      treeDir: join(loaded.dir, argocd.path),
      rootApplication: argo.buildRootApplication({
        repoURL: argocd.repoURL,
        path: argocd.path,
        targetRevision: argocd.targetRevision,
      }),
      ...(argocd.values ? { values: argocd.values } : {}),
    });
    const common = {
      helm: argo.createHelm({ run: inputs.helm, kubeconfigPath: inputs.kubeconfigPath }),
      kubeconfig: inputs.kubeconfig as string,
      chartVersion: version,
      // the Application health check stays when waves need it (helm replaces the values)
      values: settings.values,
      signal: inv.ctx.signal,
    };
    const preview = await argo.upgradeArgoCd({ ...common, dryRun: true });
    out.info(
      `Argo CD chart: ${preview.from ?? "not installed"} -> ${preview.to}${preview.changed ? "" : " (no change)"}`,
    );
    if (!preview.changed) {
      out.result(preview, () => `Argo CD chart ${preview.to}: already installed`);
      return 0;
    }
    if (!(await confirm(inv, `upgrade the argocd release to chart ${version}?`))) {
      out.info("aborted: nothing changed");
      return 1;
    }
    const step = out.step(`Argo CD chart ${preview.from ?? "-"} -> ${version}`);
    const result = await argo
      .upgradeArgoCd({ ...common, onProgress: (e) => step.update(e) })
      .catch((error: unknown) => {
        if (inv.ctx.signal.aborted) step.interrupted();
        else step.fail();
        throw error;
      });
    step.done(`Argo CD chart ${version}: upgraded, rollouts complete`);
    out.result(
      result,
      () =>
        `Argo CD chart ${result.from ?? "-"} -> ${result.to}: ${result.applied ? "upgraded" : "not applied"}\nupdate argocd.chartVersion in homelab.yaml to ${version}`,
    );
    return 0;
  },
});
