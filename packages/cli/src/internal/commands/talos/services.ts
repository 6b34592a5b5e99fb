import { defineCommand } from "../../cli/command.js";
import { TALOS_CONNECTION } from "../options.js";
import { failures, nodeJson, withTalos } from "./shared.js";

/** `homelab talos services` */
export const command = defineCommand({
  name: "services",
  summary: "Services and their state on each node",
  options: { ...TALOS_CONNECTION },
  run: (inv) =>
    withTalos(inv, async (client, nodes) => {
      const results = await client.serviceList(nodes ? { nodes } : {});
      inv.out.result({ nodes: nodeJson(results, "services") }, () =>
        results
          .map((r) =>
            r.ok
              ? [
                  `${r.node}`,
                  ...r.value.map(
                    (s) => `  ${s.id.padEnd(16)} ${s.state.padEnd(10)} ${s.health.healthy ? "healthy" : "?"}`,
                  ),
                ].join("\n")
              : `${r.node}  error: ${r.error.message}`,
          )
          .join("\n"),
      );
      return failures(results) > 0 ? 1 : 0;
    }),
});
