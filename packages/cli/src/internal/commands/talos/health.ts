import { defineCommand } from "../../cli/command.js";
import { TALOS_CONNECTION } from "../options.js";
import { renderValue, withTalos } from "./shared.js";

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
      const step = out.step("waiting for the cluster to be healthy");
      const all = nodes ?? [];
      const report = await client
        .waitForHealthy({
          controlPlaneNodes: all.slice(0, 1),
          workerNodes: all.slice(1),
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
