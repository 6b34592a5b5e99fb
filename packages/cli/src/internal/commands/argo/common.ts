import { readFile } from "node:fs/promises";
import { delimiter, resolve } from "node:path";
import { HomelabError } from "../../../errors.js";
import { loadArgoBootstrap, type ProcessRunner } from "../../adapters/argo-bootstrap.js";
import type { Invocation } from "../../cli/command.js";
import type { LoadedConfig } from "../../config/load.js";
import { remoteHelm } from "../../lab/lab.js";
import { type ArgoInputs, helmOf } from "../../pipeline/steps/argocd.js";
import { projectState } from "../../state/locate.js";
import { execRunner, loadProject, stringOption } from "../common.js";
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
  kubeconfig: { path: string | undefined; project?: boolean },
): Promise<{ helm: ProcessRunner; lab: boolean }> {
  const state = await projectState(inv, loaded);
  if (state.lab && (kubeconfig.project === true || kubeconfig.path?.startsWith(state.dir)))
    return { helm: remoteHelm(state.lab.helm.url), lab: true };
  return { helm: execRunner(inv), lab: false };
}

type KubeconfigDoc = Record<string, unknown> & { "current-context"?: string };

/**
 * A $KUBECONFIG list (`a:b`) merged the way kubectl merges it (client-go clientcmd loading rules):
 * missing files are skipped, the first file to name a cluster, user or context wins, and so does the
 * first current-context.
 */
async function mergedKubeconfig(inv: Invocation, list: string[]): Promise<{ text: string; path: undefined }> {
  const texts: string[] = [];
  for (const path of list.map((p) => resolve(inv.ctx.cwd, p)))
    texts.push(
      ...(await readFile(path, "utf8").then(
        (t) => [t],
        () => [],
      )),
    );
  if (texts.length === 0)
    throw new HomelabError("MISSING_CREDENTIALS", "none of the $KUBECONFIG files exists", {
      hint: "pass --kubeconfig, or set $KUBECONFIG to existing files",
    });
  const { parse, stringify } = await import("yaml");
  const merged: KubeconfigDoc = { apiVersion: "v1", kind: "Config" };
  for (const text of texts) {
    const doc = (parse(text) ?? {}) as KubeconfigDoc;
    for (const key of ["clusters", "users", "contexts"]) {
      const have = (merged[key] as { name?: string }[] | undefined) ?? [];
      const names = new Set(have.map((e) => e.name));
      for (const entry of (doc[key] as { name?: string }[] | undefined) ?? [])
        if (!names.has(entry.name)) {
          have.push(entry);
          names.add(entry.name);
        }
      merged[key] = have;
    }
    if (!merged["current-context"] && doc["current-context"])
      merged["current-context"] = doc["current-context"];
  }
  // no single path: helm reads $KUBECONFIG itself (same loading rules)
  return { text: stringify(merged), path: undefined };
}

/**
 * The kubeconfig in use ({@link projectKubeconfig}: flag, $KUBECONFIG, the SOPS file, the project's state) and
 * its path; a $KUBECONFIG that lists several files is merged like kubectl does (path undefined).
 */
export async function kubeconfigOf(
  inv: Invocation,
  loaded: LoadedConfig,
): Promise<{ text: string; path: string | undefined; project?: boolean }> {
  const option = stringOption(inv, "kubeconfig");
  const list = (inv.ctx.env.KUBECONFIG ?? "").split(delimiter).filter((p) => p !== "");
  if (!option && list.length > 1) return mergedKubeconfig(inv, list);
  return projectKubeconfig(inv, loaded);
}

/** What the Argo CD step needs, for the cluster this invocation points at. */
export async function argoInputsOf(inv: Invocation, loaded: LoadedConfig): Promise<ArgoInputs> {
  argocdOf(loaded);
  const kubeconfig = await kubeconfigOf(inv, loaded);
  const { helm, lab } = await helmRunner(inv, loaded, kubeconfig);
  return {
    argo: await loadArgoBootstrap(),
    loaded,
    helm,
    kubeconfigPath: kubeconfig.path,
    kubeconfig: kubeconfig.text,
    signal: inv.ctx.signal,
    lab,
    env: inv.ctx.env,
    clock: inv.ctx.clock,
  };
}

/** What the release verbs (status, upgrade, rollback) start from: homelab.yaml, its argocd section, the inputs and their Helm client. */
export async function argoReleaseOf(inv: Invocation) {
  const loaded = await loadProject(inv, { resolveSecrets: false });
  const argocd = argocdOf(loaded);
  const inputs = await argoInputsOf(inv, loaded);
  return { loaded, argocd, inputs, helm: helmOf(inputs) };
}
