import { HomelabError } from "../../../errors.js";
import { defineCommand } from "../../cli/command.js";
import { stringOption } from "../common.js";
import { KUBECONFIG_OPTION } from "../options.js";
import { argoReleaseOf } from "./common.js";

/** `homelab argo rollback [--revision N]`: helm rollback of Argo CD's release, then waits for the rollouts. */
export const command = defineCommand({
  name: "rollback",
  summary: "Roll Argo CD's Helm release back (default: the previous revision) and wait",
  options: {
    revision: { type: "string", valueName: "N", description: "Release revision to roll back to" },
    kubeconfig: KUBECONFIG_OPTION,
  },
  async run(inv) {
    const { out, ctx } = inv;
    const revisionText = stringOption(inv, "revision");
    const revision = revisionText === undefined ? undefined : Number(revisionText);
    if (revision !== undefined && !(Number.isInteger(revision) && revision > 0))
      throw new HomelabError("USAGE", `--revision must be a release revision number (got ${revisionText})`);
    const { argocd, inputs, helm } = await argoReleaseOf(inv);
    const namespace = argocd.namespace;
    const step = out.step(`helm rollback argocd${revision === undefined ? "" : ` ${revision}`}`);
    const release = await helm
      .rollback({
        release: "argocd",
        namespace,
        ...(revision === undefined ? {} : { revision }),
        signal: ctx.signal,
      })
      .catch((error: unknown) => {
        if (ctx.signal.aborted) step.interrupted();
        else step.fail();
        throw error;
      });
    await inputs.argo.waitForRollouts({
      kubeconfig: inputs.kubeconfig as string,
      namespace,
      signal: ctx.signal,
    });
    step.done(`Argo CD rolled back: chart ${release.chartVersion} (revision ${release.revision})`);
    out.result(release, () =>
      release.chartVersion === argocd.chartVersion
        ? `Argo CD chart ${release.chartVersion}`
        : `Argo CD chart ${release.chartVersion}; homelab.yaml still says ${argocd.chartVersion}: set argocd.chartVersion to ${release.chartVersion} or the next \`homelab up\` upgrades again`,
    );
    return 0;
  },
});
