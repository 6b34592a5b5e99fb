import { defineCommand, type OptionDefs } from "../cli/command.js";
import { TALOS_CONNECTION } from "./options.js";

/** The options of `homelab down` (here so `--help` loads nothing heavy). */
export const DOWN_OPTIONS = { talosconfig: TALOS_CONNECTION.talosconfig } as const satisfies OptionDefs;

/**
 * `homelab down`: shows the plan, asks (--yes skips; without a terminal and without --yes it exits 2
 * having changed nothing), then removes in order.
 */
export const command = defineCommand({
  name: "down",
  summary:
    "Remove what `up` created, in the safe order (DNS, Access, ingress, nodes, tunnel), after showing the plan",
  options: DOWN_OPTIONS,
  async run(inv) {
    const { runDown } = await import("./down-run.js");
    return runDown(inv);
  },
});
