import { defineCommand, type OptionDef } from "../cli/command.js";
import { STATE_DIR_OPTION, TALOSCONFIG_OPTION } from "./options.js";
import { DAY2_OPTIONS } from "./upgrade/options.js";

/** The options of `homelab backup`. */
export const BACKUP_OPTIONS = {
  simulate: DAY2_OPTIONS.simulate,
  out: {
    type: "string",
    valueName: "DIR",
    description:
      "Directory to write the backup to (default <state dir>/backups/<time>); must be new or empty",
  },
  node: {
    type: "string",
    valueName: "NAME",
    description: "Control plane to take the etcd snapshot from (default the first one in homelab.yaml)",
  },
  talosconfig: TALOSCONFIG_OPTION,
  "state-dir": STATE_DIR_OPTION,
} as const satisfies Record<string, OptionDef>;

/** `homelab backup [--out DIR]` */
export const command = defineCommand({
  name: "backup",
  summary: "Back up etcd and the machine secrets to a directory, with checksums and the cluster's versions",
  description:
    "Shows the plan, asks (--yes skips), then writes DIR/etcd.snapshot (streamed from a control plane, 0600), the machine secrets and talosconfig (SOPS-encrypted for the recipients of `secrets:` in homelab.yaml as secrets.sops.yaml, else 0600 files), and DIR/manifest.json with each file's sha256 and the Talos, Kubernetes and Argo CD chart versions. `homelab restore DIR` recovers the cluster from it.",
  options: BACKUP_OPTIONS,
  examples: ["homelab backup --yes", "homelab backup --out /mnt/nas/homelab-$(date +%F) --yes --json"],
  async run(inv) {
    const { runBackup } = await import("./backup-run.js");
    return runBackup(inv);
  },
});
