import { HomelabError } from "../../../errors.js";
import { defineCommand } from "../../cli/command.js";
import { TALOS_CONNECTION } from "../options.js";
import { followLines, withTalos } from "./shared.js";

/** `homelab talos logs SERVICE [--tail N] [--follow]` */
export const command = defineCommand({
  name: "logs",
  summary: "A service's logs",
  args: [{ name: "service", description: "Service id, e.g. kubelet, etcd, ext-cloudflared", required: true }],
  options: {
    ...TALOS_CONNECTION,
    tail: { type: "string", valueName: "N", description: "Only the last N lines" },
    follow: {
      type: "boolean",
      short: "f",
      description: "Keep printing new lines until Ctrl-C (--json: one JSON object per line)",
    },
  },
  run: (inv) =>
    withTalos(inv, async (client, nodes) => {
      const node = nodes?.[0];
      const service = inv.args[0] as string;
      const tail = inv.options.tail;
      if (tail !== undefined && !/^\d+$/.test(tail))
        throw new HomelabError("USAGE", `--tail needs a whole number of lines, got '${tail}'`);
      const follow = inv.options.follow === true;
      const stream = client.logs({
        id: service,
        ...(node ? { node } : {}),
        ...(tail !== undefined ? { tailLines: Number(tail) } : {}),
        follow,
        signal: inv.ctx.signal,
      });
      if (follow) return followLines(inv, stream, { service });
      const lines: string[] = [];
      for await (const line of stream) lines.push(line.replace(/\n$/, ""));
      inv.out.result({ service, lines }, () => lines.join("\n"));
      return 0;
    }),
});
