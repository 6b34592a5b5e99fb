import { HomelabError } from "../../errors.js";
import { loadTalosClient, type TalosClient, type TalosClientModule } from "../adapters/talos-client.js";
import type { Invocation } from "../cli/command.js";
import { execRunner, loadProject } from "../commands/common.js";
import type { HomelabConfig, LoadedConfig } from "../config/load.js";
import { type ClusterKubernetes, createKubernetesAccess } from "../kube/access.js";
import { remoteHelm } from "../lab/lab.js";
import { labTarget, realTarget, type Target } from "../pipeline/target.js";
import { cloudflareApiToken } from "../secrets/cloudflare-token.js";
import { stateSecretsOf } from "../secrets/state-secrets.js";
import { projectState } from "../state/locate.js";

/** A node of homelab.yaml. */
export type Day2Node = HomelabConfig["nodes"][number];

/** What a day-2 operation reaches: the project, its state, each node's Talos API and the Kubernetes API. */
export interface Day2Cluster {
  loaded: LoadedConfig;
  stateDir: string;
  target: Target;
  /** Against the simulated lab (`homelab lab`). */
  simulated: boolean;
  talos: TalosClientModule;
  /** A client that talks to `node` directly (its own endpoint), so a node can be upgraded or rebooted while the others answer. */
  client(node: Day2Node): TalosClient;
  kubernetes: ClusterKubernetes;
  close(): void;
}

/**
 * Opens the project's cluster for a day-2 operation: homelab.yaml, the state directory (the running
 * lab's with --simulate), the talosconfig and kubeconfig `homelab up` stored there.
 * @throws HomelabError USAGE (--simulate without a running lab), MISSING_CREDENTIALS (no talosconfig or kubeconfig yet)
 */
export async function openDay2Cluster(
  inv: Invocation,
  options: { simulate: boolean; resolveSecrets?: boolean },
): Promise<Day2Cluster> {
  const loaded = await loadProject(inv, {
    resolveSecrets: options.resolveSecrets ?? false,
    placeholderSecrets: options.simulate,
  });
  const state = await projectState(inv, loaded);
  if (options.simulate && state.lab === undefined)
    throw new HomelabError("USAGE", `no simulated lab is running for ${loaded.path}`, {
      hint: "start one with `homelab lab` (it brings it up as `homelab up --simulate` does), then run this again",
    });
  const target = state.lab
    ? labTarget(state.lab, remoteHelm(state.lab.helm.url))
    : realTarget(inv.ctx.env, execRunner(inv), await cloudflareApiToken(loaded, inv.ctx.env));
  const secrets = stateSecretsOf(loaded, state.dir, { simulated: state.lab !== undefined, env: inv.ctx.env });
  const [talosconfig, kubeconfig] = await Promise.all([
    secrets.read("talosconfig"),
    secrets.read("kubeconfig"),
  ]);
  if (talosconfig === undefined || kubeconfig === undefined)
    throw new HomelabError(
      "MISSING_CREDENTIALS",
      `no ${talosconfig === undefined ? "talosconfig" : "kubeconfig"} in ${state.dir}: this homelab was not brought up from here`,
      { hint: `run \`homelab up${state.lab ? " --simulate" : ""}\` first` },
    );
  const [talos, kubernetes] = await Promise.all([
    loadTalosClient(),
    createKubernetesAccess(kubeconfig, secrets.describe("kubeconfig")),
  ]);
  const clients = new Map<string, TalosClient>();
  return {
    loaded,
    stateDir: state.dir,
    target,
    simulated: state.lab !== undefined,
    talos,
    client(node) {
      let client = clients.get(node.name);
      if (client === undefined) {
        client = talos.createTalosClient({
          talosconfig,
          endpoints: [target.talosEndpoint(node)],
          nodes: [node.address],
        });
        clients.set(node.name, client);
      }
      return client;
    },
    kubernetes,
    close() {
      for (const c of clients.values()) c.close();
      clients.clear();
    },
  };
}
