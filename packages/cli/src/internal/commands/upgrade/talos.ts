import { defineCommand } from "../../cli/command.js";
import { UPGRADE_TALOS_OPTIONS } from "./options.js";

/** `homelab upgrade talos [--to vX.Y.Z]` */
export const command = defineCommand({
  name: "talos",
  summary: "Upgrade Talos node by node, control planes first (planned, resumable after Ctrl-C)",
  description: [
    "Sets cluster.talosVersion in homelab.yaml (with --to; comments and layout kept), then for one node",
    "at a time, control planes first: checks that etcd keeps quorum without it, cordons and drains it",
    "(PodDisruptionBudgets honoured), upgrades it with the installer image of the cluster's Image Factory",
    "schematic, waits until it is back on the new version and Ready, uncordons it and waits for the whole",
    "cluster to be healthy before the next node. The first gate that fails stops the roll-out with the",
    "remaining nodes untouched; run the same command again to continue where it stopped. Refuses a jump",
    "that skips a minor line, a downgrade, and a Talos line that does not support the cluster's Kubernetes.",
  ].join("\n"),
  options: UPGRADE_TALOS_OPTIONS,
  examples: [
    "homelab upgrade talos --to v1.14.1",
    "homelab upgrade talos --to v1.14.1 --yes --json",
    "homelab upgrade talos --to v1.14.1 --simulate",
  ],
  async run(inv) {
    const { runUpgradeTalos } = await import("../../day2/upgrade-talos.js");
    return runUpgradeTalos(inv);
  },
});
