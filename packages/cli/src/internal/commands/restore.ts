import { defineCommand, type OptionDef } from "../cli/command.js";
import { nodeTimeoutOption, STATE_DIR_OPTION, TALOSCONFIG_OPTION } from "./options.js";
import { DAY2_OPTIONS } from "./upgrade/options.js";

/** The options of `homelab restore`. */
export const RESTORE_OPTIONS = {
  simulate: DAY2_OPTIONS.simulate,
  node: {
    type: "string",
    valueName: "NAME",
    description: "Control plane to recover etcd on (default the first one in homelab.yaml)",
  },
  wipe: {
    type: "boolean",
    description:
      "etcd still runs: make every other control plane leave etcd, then wipe EPHEMERAL (etcd's data) on every control plane first",
  },
  talosconfig: TALOSCONFIG_OPTION,
  "node-timeout": nodeTimeoutOption(
    "How long to wait for each node and for the cluster to be healthy (default 10m)",
  ),
  "state-dir": STATE_DIR_OPTION,
} as const satisfies Record<string, OptionDef>;

/** `homelab restore DIR` */
export const command = defineCommand({
  name: "restore",
  summary:
    "Recover the cluster's etcd from a `homelab backup` directory (as talosctl bootstrap --recover-from)",
  description:
    "Checks every file of DIR against manifest.json's sha256 and that the backup is this cluster's (the same machine secrets), shows the plan, asks (--yes skips), then uploads the etcd snapshot to one control plane and bootstraps etcd from it (EtcdRecover, then Bootstrap with recover_etcd), and waits for the cluster to be healthy. Talos refuses to recover onto a node whose etcd data directory is not empty: with etcd still running, restore stops before changing anything unless --wipe is given.",
  options: RESTORE_OPTIONS,
  args: [{ name: "DIR", description: "The directory `homelab backup` wrote", required: true }],
  examples: [
    "homelab restore .homelab/homelab/backups/20261205T103000Z --yes",
    "homelab restore /mnt/nas/homelab-2026-12-05 --wipe",
  ],
  async run(inv) {
    const { runRestore } = await import("./restore-run.js");
    return runRestore(inv);
  },
});
