import { defineCommand } from "../../cli/command.js";
import { TALOS_CONNECTION } from "../options.js";
import { followLines, withTalos } from "./shared.js";

/** `homelab talos dmesg [--follow]` */
export const command = defineCommand({
  name: "dmesg",
  summary: "The kernel log",
  options: {
    ...TALOS_CONNECTION,
    follow: {
      type: "boolean",
      short: "f",
      description: "Keep printing new lines until Ctrl-C (--json: one JSON object per line)",
    },
  },
  run: (inv) =>
    withTalos(inv, async (client, nodes) => {
      const node = nodes?.[0];
      const follow = inv.options.follow === true;
      const stream = client.dmesg({ ...(node ? { node } : {}), follow, signal: inv.ctx.signal });
      if (follow) return followLines(inv, stream, {});
      const lines: string[] = [];
      for await (const line of stream) lines.push(line.replace(/\n$/, ""));
      inv.out.result({ lines }, () => lines.join("\n"));
      return 0;
    }),
});
