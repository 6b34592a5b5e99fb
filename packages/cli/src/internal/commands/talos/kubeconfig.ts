import { resolve } from "node:path";
import { defineCommand } from "../../cli/command.js";
import { writeFileAtomic } from "../../fs/atomic.js";
import { mergeIntoUserKubeconfig } from "../connect.js";
import { TALOS_CONNECTION } from "../options.js";
import { withTalos } from "./shared.js";

/** `homelab talos kubeconfig [--out FILE|-] [--force]`: merges into the user's kubeconfig like talosctl */
export const command = defineCommand({
  name: "kubeconfig",
  summary: "Fetch the admin kubeconfig and merge it into ~/.kube/config (or $KUBECONFIG)",
  options: {
    ...TALOS_CONNECTION,
    out: {
      type: "string",
      short: "o",
      valueName: "FILE",
      description: "Write it to FILE (0600) instead of merging; '-' prints it",
    },
    force: {
      type: "boolean",
      short: "f",
      description: "On merge, overwrite entries with the same name instead of renaming ours NAME-1",
    },
  },
  run: (inv) =>
    withTalos(inv, async (client, nodes) => {
      const { out, ctx } = inv;
      const node = nodes?.[0];
      const kubeconfig = await client.kubeconfig(node ? { node } : {});
      const file = inv.options.out;
      if (file === "-") {
        if (inv.flags.json) out.result({ kubeconfig }, "");
        else out.print(kubeconfig);
      } else if (file) {
        const full = resolve(ctx.cwd, file);
        await writeFileAtomic(full, kubeconfig, 0o600);
        out.result({ written: full }, `wrote ${full} (0600)`);
      } else {
        const merged = await mergeIntoUserKubeconfig(inv, kubeconfig);
        out.result(merged, () =>
          [
            ...merged.renamed.map((r) => `renamed ${r.kind} ${r.from} -> ${r.to} (another one had the name)`),
            ...merged.overwritten.map((o) => `overwrote ${o.kind} ${o.name}`),
            `merged into ${merged.path} (0600); current context: ${merged.context}`,
          ].join("\n"),
        );
      }
      return 0;
    }),
});
