import { resolve } from "node:path";
import { defineCommand } from "../../cli/command.js";
import { writeFileAtomic } from "../../fs/atomic.js";
import { TALOS_CONNECTION } from "../options.js";
import { withTalos } from "./shared.js";

/** `homelab talos kubeconfig [--out FILE]` */
export const command = defineCommand({
  name: "kubeconfig",
  summary: "Fetch the admin kubeconfig",
  options: {
    ...TALOS_CONNECTION,
    out: {
      type: "string",
      short: "o",
      valueName: "FILE",
      description: "Write it to FILE (0600) instead of stdout",
    },
  },
  run: (inv) =>
    withTalos(inv, async (client, nodes) => {
      const { out, ctx } = inv;
      const node = nodes?.[0];
      const kubeconfig = await client.kubeconfig(node ? { node } : {});
      const file = inv.options.out;
      if (file) {
        const full = resolve(ctx.cwd, file);
        await writeFileAtomic(full, kubeconfig, 0o600);
        out.result({ written: full }, `wrote ${full} (0600)`);
      } else if (inv.flags.json) {
        out.result({ kubeconfig }, "");
      } else {
        out.print(kubeconfig);
      }
      return 0;
    }),
});
