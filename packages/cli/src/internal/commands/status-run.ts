import { HomelabError } from "../../errors.js";
import type { Invocation } from "../cli/command.js";
import { projectSystems } from "../state/systems.js";
import { collectStatus, renderStatus } from "../status/status.js";
import { loadProject, stringOption } from "./common.js";
import type { STATUS_OPTIONS } from "./status.js";

/** The `homelab status` handler (loaded only when the command runs, so `--help` stays light). */
export async function runStatus(inv: Invocation<typeof STATUS_OPTIONS>): Promise<number> {
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
}
