import { defineCommand } from "../../cli/command.js";
import { confirm } from "../common.js";
import { TALOS_CONNECTION } from "../options.js";
import { targetsOf, withTalos } from "./shared.js";

/** `homelab talos reset` */
export const command = defineCommand({
  name: "reset",
  summary: "Wipe the nodes back to maintenance mode (destructive; asks first, --yes skips)",
  options: {
    ...TALOS_CONNECTION,
    graceful: { type: "boolean", description: "Leave etcd gracefully first" },
  },
  run: (inv) =>
    withTalos(inv, async (client, nodes) => {
      if (!(await confirm(inv, `reset ${targetsOf(nodes)}? This wipes them back to maintenance mode`)))
        return 1;
      const results: { node: string; actorId: string }[] = [];
      for (const n of nodes ?? [undefined])
        results.push(
          await client.reset({ graceful: inv.options.graceful === true, ...(n ? { node: n } : {}) }),
        );
      inv.out.result({ reset: results }, () =>
        results.map((r) => `${r.node}: resetting (${r.actorId})`).join("\n"),
      );
      return 0;
    }),
});
