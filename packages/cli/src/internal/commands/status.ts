import { HomelabError } from "../../errors.js";
import { defineCommand } from "../cli/command.js";
import { projectSystems } from "../state/systems.js";
import { collectStatus, renderStatus } from "../status/status.js";
import { loadProject, stringOption } from "./common.js";
import { KUBECONFIG_OPTION, TALOS_CONNECTION } from "./options.js";

/** `homelab status [--watch] [--interval S]`: exit 0 when every layer is healthy and in sync, else 1. */
export const command = defineCommand({
  name: "status",
  summary:
    "One screen across the layers: Talos nodes and versions, etcd, Kubernetes, tunnel connectors, DNS/Access, Argo CD apps",
  options: {
    watch: {
      type: "boolean",
      short: "w",
      description: "Refresh until Ctrl-C (with --json: one document per line)",
    },
    interval: {
      type: "string",
      valueName: "SECONDS",
      description: "Seconds between refreshes with --watch (default 5)",
    },
    talosconfig: TALOS_CONNECTION.talosconfig,
    kubeconfig: KUBECONFIG_OPTION,
  },
  async run(inv) {
    const { out, ctx, options } = inv;
    const loaded = await loadProject(inv, { resolveSecrets: false });
    const systems = await projectSystems(inv, loaded);
    const style = (color: Parameters<typeof out.style>[0], text: string) => out.style(color, text);
    if (options.watch !== true) {
      const report = await collectStatus(loaded, systems, ctx.signal);
      out.result(report, () => renderStatus(report, style));
      return report.ok ? 0 : 1;
    }
    const interval = Number(stringOption(inv, "interval") ?? "5");
    if (!Number.isFinite(interval) || interval <= 0)
      throw new HomelabError(
        "USAGE",
        `--interval needs a positive number of seconds, got '${stringOption(inv, "interval")}'`,
      );
    // redraw in place only where a terminal understands it; elsewhere each refresh follows the last
    const redraw = !inv.flags.json && ctx.isTTY.stdout && ctx.env.TERM !== "dumb";
    while (!ctx.signal.aborted) {
      const report = await collectStatus(loaded, systems, ctx.signal);
      if (inv.flags.json) ctx.stdout.write(`${JSON.stringify(report)}\n`);
      else
        ctx.stdout.write(
          `${redraw ? "\x1b[H\x1b[2J" : ""}${renderStatus(report, style)}\n${out.style("dim", `every ${interval} s; Ctrl-C stops`)}\n${redraw ? "" : "\n"}`,
        );
      await ctx.clock.sleep(interval * 1000, ctx.signal).catch(() => undefined);
    }
    return 130;
  },
});
