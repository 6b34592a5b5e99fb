import type { OptionDefs } from "../../cli/command.js";
import { OFFLINE_OPTION, STATE_DIR_OPTION, TALOSCONFIG_OPTION } from "../options.js";

/** What the day-2 upgrade commands share (here so `--help` loads nothing else). */
export const DAY2_OPTIONS = {
  simulate: {
    type: "boolean",
    description: "Run against the simulated lab `homelab lab` keeps running (asks on a terminal only)",
  },
  "state-dir": STATE_DIR_OPTION,
  talosconfig: TALOSCONFIG_OPTION,
  "node-timeout": {
    type: "string",
    valueName: "DURATION",
    description: "How long to wait for a node to come back (default 15m; e.g. 30s, 10m)",
  },
  "health-timeout": {
    type: "string",
    valueName: "DURATION",
    description: "How long to wait for the cluster to be healthy between nodes (default 5m)",
  },
} as const satisfies OptionDefs;

/** The options of `homelab upgrade talos`. */
export const UPGRADE_TALOS_OPTIONS = {
  to: {
    type: "string",
    valueName: "VERSION",
    description:
      "Talos version to go to, e.g. v1.14.1 (written to cluster.talosVersion); default: the one in homelab.yaml",
  },
  ...DAY2_OPTIONS,
  "drain-timeout": {
    type: "string",
    valueName: "DURATION",
    description: "How long a drain may wait for PodDisruptionBudgets (default 5m)",
  },
  offline: OFFLINE_OPTION,
} as const satisfies OptionDefs;

/** The options of `homelab upgrade kubernetes`. */
export const UPGRADE_KUBERNETES_OPTIONS = {
  to: {
    type: "string",
    valueName: "VERSION",
    description:
      "Kubernetes version to go to, e.g. 1.35.1 (written to cluster.kubernetesVersion); default: the one in homelab.yaml",
  },
  ...DAY2_OPTIONS,
} as const satisfies OptionDefs;
