import { HomelabError } from "../../errors.js";
import { loadTalosClient, type TalosClient, type TalosClientModule } from "../adapters/talos-client.js";
import type { Invocation } from "../cli/command.js";
import { execRunner, loadProject } from "../commands/common.js";
import type { HomelabConfig, LoadedConfig } from "../config/load.js";
import { type ClusterKubernetes, createKubernetesAccess } from "../kube/access.js";
import { remoteHelm } from "../lab/lab.js";
import { labTarget, realTarget, type Target } from "../pipeline/target.js";
import { cloudflareApiToken } from "../secrets/cloudflare-token.js";
import { clusterAccess } from "../state/cluster-access.js";

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
 * Opens the project's cluster for a day-2 operation: homelab.yaml, then what {@link clusterAccess}
 * decides for every day-2 command (the state directory, the running lab with --simulate, the
 * talosconfig incl. --talosconfig and $TALOSCONFIG, the SOPS store), and the kubeconfig `homelab up`
 * stored next to that talosconfig.
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
  const access = await clusterAccess(inv, loaded);
  const { lab, state: secrets, talosconfig } = access;
  const target = lab
    ? labTarget(lab, remoteHelm(lab.helm.url))
    : realTarget(inv.ctx.env, execRunner(inv), await cloudflareApiToken(loaded, inv.ctx.env));
  const kubeconfig = await secrets.read("kubeconfig");
  if (kubeconfig === undefined)
    throw new HomelabError(
      "MISSING_CREDENTIALS",
      `no kubeconfig in ${secrets.describe("kubeconfig")}: this homelab was not brought up from here`,
      { hint: `run \`homelab up${lab ? " --simulate" : ""}\` first` },
    );
  const [talos, kubernetes] = await Promise.all([
    loadTalosClient(),
    createKubernetesAccess(kubeconfig, secrets.describe("kubeconfig")),
  ]);
  const clients = new Map<string, TalosClient>();
  return {
    loaded,
    stateDir: access.stateDir,
    target,
    simulated: lab !== undefined,
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
