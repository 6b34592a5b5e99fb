import { defineCommand } from "../../cli/command.js";
import { confirm } from "../common.js";
import { TALOS_CONNECTION } from "../options.js";
import { targetsOf, withTalos } from "./shared.js";

/** `homelab talos reboot` */
export const command = defineCommand({
  name: "reboot",
  summary: "Reboot the nodes (asks first; --yes skips)",
  options: { ...TALOS_CONNECTION },
  run: (inv) =>
    withTalos(inv, async (client, nodes) => {
      if (!(await confirm(inv, `reboot ${targetsOf(nodes)}?`))) return 1;
      const results: { node: string; actorId: string }[] = [];
      for (const n of nodes ?? [undefined]) results.push(await client.reboot(n ? { node: n } : {}));
      inv.out.result({ rebooted: results }, () =>
        results.map((r) => `${r.node}: rebooting (${r.actorId})`).join("\n"),
      );
      return 0;
    }),
});
