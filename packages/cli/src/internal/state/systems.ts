import type Cloudflare from "cloudflare";
import { HomelabError } from "../../errors.js";
import type { Secret } from "../../secret.js";
import { createCloudflare } from "../adapters/cf-tunnel.js";
import { loadTalosClient, type TalosClient } from "../adapters/talos-client.js";
import type { Invocation } from "../cli/command.js";
import { execRunner } from "../commands/common.js";
import type { LoadedConfig } from "../config/load.js";
import { remoteHelm } from "../lab/lab.js";
import { labTarget, realTarget, type Target } from "../pipeline/target.js";
import { cloudflareApiToken, missingCloudflareToken } from "../secrets/cloudflare-token.js";
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
  /** A Cloudflare client: the lab's, or with the project's token (secrets/cloudflare-token.ts). */
  cloudflare?: Cloudflare;
  /** Why there is no Cloudflare client although homelab.yaml has a tunnel (no token, or unresolved). */
  cloudflareProblem?: HomelabError;
}

/** Finds the project's state and credentials and the endpoints of its systems (nothing is called yet). */
export async function projectSystems(inv: Invocation, loaded: LoadedConfig): Promise<ProjectSystems> {
  const state = await projectState(inv, loaded);
  let apiToken: Secret | undefined;
  let cloudflareProblem: HomelabError | undefined;
  if (!state.lab && loaded.config.tunnel) {
    try {
      apiToken = await cloudflareApiToken(loaded, inv.ctx.env);
      if (!apiToken) cloudflareProblem = missingCloudflareToken();
    } catch (error) {
      cloudflareProblem = HomelabError.from(error);
    }
  }
  const target = state.lab
    ? labTarget(state.lab, remoteHelm(state.lab.helm.url))
    : realTarget(inv.ctx.env, execRunner(inv), apiToken);
  const systems: ProjectSystems = { state, target, ...(cloudflareProblem ? { cloudflareProblem } : {}) };
  const talosconfig = await (await locateTalosconfig(inv, loaded))?.read();
  if (talosconfig) systems.talosconfig = talosconfig;
  const kubeconfig = await (await locateKubeconfig(inv, loaded))?.read();
  if (kubeconfig) systems.kubeconfig = kubeconfig;
  if (loaded.config.tunnel && target.cloudflare.apiToken)
    systems.cloudflare = await createCloudflare({
      apiToken: target.cloudflare.apiToken,
      baseURL: target.cloudflare.baseURL,
      maxRetries: target.kind === "lab" ? 0 : 2,
    });
  return systems;
}

/**
 * A talos-client for one node of the project, over mTLS with the project's talosconfig and straight to
 * that node's endpoint (so resetting one node never cuts the way to the next).
 * @throws HomelabError MISSING_CREDENTIALS when the project has no talosconfig
 */
export async function nodeClient(
  systems: ProjectSystems,
  node: { name: string; address: string },
  timeoutMs = 10_000,
): Promise<TalosClient> {
  if (!systems.talosconfig)
    throw new HomelabError("MISSING_CREDENTIALS", "no talosconfig found", {
      hint: "run `homelab up` (it writes one to the state directory next to homelab.yaml), or pass --talosconfig",
    });
  const lib = await loadTalosClient();
  return lib.createTalosClient({
    talosconfig: systems.talosconfig,
    endpoints: [systems.target.talosEndpoint(node)],
    nodes: [node.address],
    timeoutMs,
  });
}
