import { defineCommand } from "../../cli/command.js";
import { TALOS_CONNECTION } from "../options.js";
import { byNode, failures, withTalos } from "./shared.js";

/** `homelab talos version` */
export const command = defineCommand({
  name: "version",
  summary: "Each node's Talos version",
  options: { ...TALOS_CONNECTION },
  run: (inv) =>
    withTalos(inv, async (client, nodes) => {
      const results = await client.version(nodes ? { nodes } : {});
      inv.out.result(
        {
          nodes: results.map((r) =>
            r.ok
              ? { address: r.node, tag: r.value.tag, sha: r.value.sha, arch: r.value.arch }
              : { address: r.node, error: { code: r.error.code, message: r.error.message } },
          ),
        },
        () => byNode(results, (v) => `${v.tag} (${v.arch})`),
      );
      return failures(results) > 0 ? 1 : 0;
    }),
});
