import { readFile } from "node:fs/promises";
import { HomelabError } from "../../../errors.js";
import { loadArgoBootstrap, type ProcessRunner } from "../../adapters/argo-bootstrap.js";
import type { Invocation } from "../../cli/command.js";
import type { LoadedConfig } from "../../config/load.js";
import { remoteHelm } from "../../lab/lab.js";
import type { ArgoInputs } from "../../pipeline/steps/argocd.js";
import { stateSecretsOf } from "../../secrets/state-secrets.js";
import { projectState } from "../../state/locate.js";
import { execRunner, stateDirOf, stringOption } from "../common.js";
import { projectKubeconfig } from "../connect.js";

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
  const state = await projectState(inv, loaded);
  if (state.lab && kubeconfigPath.startsWith(state.dir))
    return { helm: remoteHelm(state.lab.helm.url), lab: true };
  return { helm: execRunner(inv), lab: false };
}

/** The kubeconfig in use ({@link projectKubeconfig}: flag, $KUBECONFIG, the SOPS file, the project's state) and its path. */
export async function kubeconfigOf(inv: Invocation, loaded: LoadedConfig) {
  const explicit = stringOption(inv, "kubeconfig") ?? inv.ctx.env.KUBECONFIG;
  if (!explicit && loaded.secrets) {
    // kept in the SOPS file: helm reads a 0600 temp copy, removed when the process exits
    const copy = await stateSecretsOf(loaded, stateDirOf(inv, loaded)).materialize("kubeconfig");
    if (copy) return { path: copy.path, text: await readFile(copy.path, "utf8") };
  }
  return projectKubeconfig(inv, loaded);
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
