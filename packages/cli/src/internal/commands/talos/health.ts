import { HomelabError } from "../../../errors.js";
import { defineCommand, type Invocation } from "../../cli/command.js";
import type { LoadedConfig } from "../../config/load.js";
import { loadProject } from "../common.js";
import { KUBECONFIG_OPTION, TALOS_CONNECTION } from "../options.js";
import { renderValue, withTalos } from "./shared.js";

/**
 * Control planes and workers from homelab.yaml: every node, or those named with --nodes (by address or
 * name). Roles never come from the order of --nodes.
 */
async function healthRoles(
  inv: Invocation,
  nodes: string[] | undefined,
): Promise<{ controlPlaneNodes: string[]; workerNodes: string[]; loaded: LoadedConfig }> {
  const loaded = await loadProject(inv, { resolveSecrets: false });
  const { config } = loaded;
  const unknown = (nodes ?? []).filter((n) => !config.nodes.some((c) => c.address === n || c.name === n));
  if (unknown.length > 0) {
    throw new HomelabError("USAGE", `--nodes names ${unknown.join(", ")}, not a node of homelab.yaml`, {
      hint: `nodes: ${config.nodes.map((n) => `${n.name} (${n.address})`).join(", ")}`,
    });
  }
  const chosen = config.nodes.filter((c) => !nodes || nodes.includes(c.address) || nodes.includes(c.name));
  const of = (role: string) => chosen.filter((c) => c.role === role).map((c) => c.address);
  return { controlPlaneNodes: of("controlplane"), workerNodes: of("worker"), loaded };
}

/** `homelab talos health` */
export const command = defineCommand({
  name: "health",
  summary: "Wait for the cluster to be healthy (Talos checks, and the Kubernetes ones with a kubeconfig)",
  options: {
    ...TALOS_CONNECTION,
    kubeconfig: KUBECONFIG_OPTION,
    "wait-timeout": {
      type: "string",
      valueName: "SECONDS",
      description: "How long to wait (default 300)",
    },
  },
  run: (inv) =>
    withTalos(inv, async (client, nodes) => {
      const { out, ctx } = inv;
      const timeout = Number(inv.options["wait-timeout"] ?? "300");
      const { loaded, ...roles } = await healthRoles(inv, nodes);
      const { kubernetesFromFlags } = await import("../../kube/access.js");
      const kube = await kubernetesFromFlags(inv, loaded);
      if (kube.access === undefined) out.warn(`the Kubernetes checks are skipped: ${kube.why}`);
      // --nodes asks about those nodes: the other Kubernetes nodes are not "unexpected"
      const chosen = [...roles.controlPlaneNodes, ...roles.workerNodes];
      const access =
        kube.access === undefined || nodes === undefined
          ? kube.access
          : {
              ...kube.access,
              listNodes: async (o?: { signal?: AbortSignal }) =>
                (await kube.access.listNodes(o)).filter((n) =>
                  n.internalIPs.some((ip) => chosen.includes(ip)),
                ),
            };
      const step = out.step("waiting for the cluster to be healthy");
      const report = await client
        .waitForHealthy({
          ...roles,
          ...(access === undefined ? {} : { kubernetes: access }),
          timeoutMs: timeout * 1000,
          signal: ctx.signal,
          onProgress: (e) => step.update(e),
        })
        .catch((error: unknown) => {
          step.fail();
          throw error;
        });
      step.done("cluster healthy");
      out.result({ healthy: true, report }, () => renderValue(report));
      return 0;
    }),
});
