import { defineCommand, type OptionDefs } from "../cli/command.js";
import { KUBECONFIG_OPTION, TALOS_CONNECTION } from "./options.js";

/** The options of `homelab status` (here so `--help` loads nothing heavy). */
export const STATUS_OPTIONS = {
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
} as const satisfies OptionDefs;

/** `homelab status [--watch] [--interval S]`: exit 0 when every layer is healthy and in sync, else 1. */
export const command = defineCommand({
  name: "status",
  summary:
    "One screen across the layers: Talos nodes and versions, etcd, Kubernetes, tunnel connectors, DNS/Access, Argo CD apps",
  options: STATUS_OPTIONS,
  async run(inv) {
    const { runStatus } = await import("./status-run.js");
    return runStatus(inv);
  },
});
