import { defineCommand, type OptionDef } from "../../cli/command.js";
import { nodeTimeoutOption, STATE_DIR_OPTION, TALOSCONFIG_OPTION } from "../options.js";
import { DAY2_OPTIONS } from "../upgrade/options.js";

/** The options of `homelab node remove`. */
export const NODE_REMOVE_OPTIONS = {
  simulate: DAY2_OPTIONS.simulate,
  "node-timeout": nodeTimeoutOption("How long to wait for the drain and for the node to leave (default 10m)"),
  "state-dir": STATE_DIR_OPTION,
  talosconfig: TALOSCONFIG_OPTION,
} as const satisfies Record<string, OptionDef>;

/** `homelab node remove NAME` */
export const command = defineCommand({
  name: "remove",
  summary:
    "Retire a node: drain it, leave etcd, wipe it, and drop it from Kubernetes, homelab.yaml and the tunnel",
  description:
    "Shows the plan, asks (--yes skips), then: cordons and drains the node (PodDisruptionBudgets honoured); for a control plane, hands etcd leadership over and leaves etcd (refused when the remaining members would lose quorum, or for the last control plane); resets the machine (wipe; it reboots into maintenance mode); deletes its Kubernetes Node; removes it from homelab.yaml (comments kept); and deletes its cloudflared connections so the tunnel audit no longer lists it. Run again to resume.",
  options: NODE_REMOVE_OPTIONS,
  args: [{ name: "NAME", description: "The node, as named in homelab.yaml", required: true }],
  examples: ["homelab node remove worker2", "homelab node remove cp3 --yes --json"],
  async run(inv) {
    const { runNodeRemove } = await import("./remove-run.js");
    return runNodeRemove(inv);
  },
});
