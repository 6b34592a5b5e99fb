import { join, resolve } from "node:path";
import { HomelabError } from "../../../errors.js";
import { loadArgoBootstrap, type ProcessRunner } from "../../adapters/argo-bootstrap.js";
import type { Invocation } from "../../cli/command.js";
import type { LoadedConfig } from "../../config/load.js";
import { remoteHelm } from "../../lab/lab.js";
import { runningLab } from "../../lab/running.js";
import type { ArgoInputs } from "../../pipeline/steps/argocd.js";
import { execRunner, stateDirOf, stringOption } from "../common.js";
import { kubeconfigText } from "../connect.js";

/** The `argocd` section, or a usage error when homelab.yaml has none. */
export function argocdOf(loaded: LoadedConfig) {
  const argocd = loaded.config.argocd;
  if (!argocd) throw new HomelabError("USAGE", "homelab.yaml has no 'argocd' section");
  return argocd;
}

/** helm: the running simulated lab's when the kubeconfig is the lab's, else the real binary through ctx.exec. */
async function helmRunner(
  inv: Invocation,
  loaded: LoadedConfig,
  kubeconfigPath: string,
): Promise<{ helm: ProcessRunner; lab: boolean }> {
  const labDir = join(loaded.dir, ".homelab", loaded.config.cluster.name, "lab");
  const lab = await runningLab(labDir, loaded.config);
  if (lab && kubeconfigPath.startsWith(labDir)) return { helm: remoteHelm(lab.helm.url), lab: true };
  return { helm: execRunner(inv), lab: false };
}

/** The kubeconfig in use (--kubeconfig, $KUBECONFIG, the state dir's) and its path. */
export async function kubeconfigOf(inv: Invocation, loaded: LoadedConfig) {
  const explicit = stringOption(inv, "kubeconfig") ?? inv.ctx.env.KUBECONFIG;
  const fallback = join(stateDirOf(inv, loaded), "kubeconfig");
  const path = explicit ? resolve(inv.ctx.cwd, explicit) : fallback;
  return { path, text: await kubeconfigText(inv, fallback) };
}

/** What the Argo CD step needs, for the cluster this invocation points at. */
export async function argoInputsOf(inv: Invocation, loaded: LoadedConfig): Promise<ArgoInputs> {
  argocdOf(loaded);
  const kubeconfig = await kubeconfigOf(inv, loaded);
  const { helm, lab } = await helmRunner(inv, loaded, kubeconfig.path);
  return {
    argo: await loadArgoBootstrap(),
    loaded,
    helm,
    kubeconfigPath: kubeconfig.path,
    kubeconfig: kubeconfig.text,
    signal: inv.ctx.signal,
    lab,
  };
}
