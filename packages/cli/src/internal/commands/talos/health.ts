import { HomelabError } from "../../../errors.js";
import { defineCommand, type Invocation } from "../../cli/command.js";
import { loadProject } from "../common.js";
import { TALOS_CONNECTION } from "../options.js";
import { renderValue, withTalos } from "./shared.js";

/**
 * Control planes and workers from homelab.yaml: every node, or those named with --nodes (by address or
 * name). Roles never come from the order of --nodes.
 */
async function healthRoles(
  inv: Invocation,
  nodes: string[] | undefined,
): Promise<{ controlPlaneNodes: string[]; workerNodes: string[] }> {
  const { config } = await loadProject(inv, { resolveSecrets: false });
  const unknown = (nodes ?? []).filter((n) => !config.nodes.some((c) => c.address === n || c.name === n));
  if (unknown.length > 0) {
    throw new HomelabError("USAGE", `--nodes names ${unknown.join(", ")}, not a node of homelab.yaml`, {
      hint: `nodes: ${config.nodes.map((n) => `${n.name} (${n.address})`).join(", ")}`,
    });
  }
  const chosen = config.nodes.filter((c) => !nodes || nodes.includes(c.address) || nodes.includes(c.name));
  const of = (role: string) => chosen.filter((c) => c.role === role).map((c) => c.address);
  return { controlPlaneNodes: of("controlplane"), workerNodes: of("worker") };
}

/** `homelab talos health` */
export const command = defineCommand({
  name: "health",
  summary: "Wait for the cluster to be healthy",
  options: {
    ...TALOS_CONNECTION,
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
      const roles = await healthRoles(inv, nodes);
      const step = out.step("waiting for the cluster to be healthy");
      const report = await client
        .waitForHealthy({
          ...roles,
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
