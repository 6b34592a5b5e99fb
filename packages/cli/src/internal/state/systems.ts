import type Cloudflare from "cloudflare";
import { createCloudflare } from "../adapters/cf-tunnel.js";
import type { Invocation } from "../cli/spec.js";
import { execRunner } from "../commands/common.js";
import type { LoadedConfig } from "../config/load.js";
import { remoteHelm } from "../lab/lab.js";
import { readOptional } from "../pipeline/state.js";
import { labTarget, realTarget, type Target } from "../pipeline/target.js";
import { locateKubeconfig, locateTalosconfig, type ProjectState, projectState } from "./locate.js";

/** What reaches a project's live systems: the same state, credentials and endpoints for every command. */
export interface ProjectSystems {
  state: ProjectState;
  /** The running simulated lab's endpoints, or the real ones. */
  target: Target;
  /** The talosconfig text ({@link locateTalosconfig}), undefined when there is none. */
  talosconfig?: string;
  /** The kubeconfig text ({@link locateKubeconfig}), undefined when there is none. */
  kubeconfig?: string;
  /** A Cloudflare client: the lab's, or from CLOUDFLARE_API_TOKEN; undefined without a token. */
  cloudflare?: Cloudflare;
}

/** Finds the project's state and credentials and the endpoints of its systems (nothing is called yet). */
export async function projectSystems(inv: Invocation, loaded: LoadedConfig): Promise<ProjectSystems> {
  const state = await projectState(inv, loaded);
  const target = state.lab
    ? labTarget(state.lab, remoteHelm(state.lab.helm.url))
    : realTarget(inv.ctx.env, execRunner(inv));
  const systems: ProjectSystems = { state, target };
  const talosconfigFile = await locateTalosconfig(inv, loaded);
  const talosconfig = talosconfigFile && (await readOptional(talosconfigFile.path));
  if (talosconfig) systems.talosconfig = talosconfig;
  const kubeconfigFile = await locateKubeconfig(inv, loaded);
  const kubeconfig = kubeconfigFile && (await readOptional(kubeconfigFile.path));
  if (kubeconfig) systems.kubeconfig = kubeconfig;
  if (loaded.config.tunnel && target.cloudflare.apiToken)
    systems.cloudflare = await createCloudflare({
      apiToken: target.cloudflare.apiToken,
      baseURL: target.cloudflare.baseURL,
      maxRetries: target.kind === "lab" ? 0 : 2,
    });
  return systems;
}
