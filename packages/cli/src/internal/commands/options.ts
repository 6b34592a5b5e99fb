import type { OptionDef, OptionDefs } from "../cli/command.js";

/** How the `talos` commands (and rotate-token) reach nodes. */
export const TALOS_CONNECTION = {
  talosconfig: {
    type: "string",
    valueName: "FILE",
    description:
      "talosconfig (default $TALOSCONFIG, then the state directory of homelab.yaml, then ~/.talos/config)",
  },
  context: { type: "string", valueName: "NAME", description: "talosconfig context" },
  endpoints: {
    type: "string",
    short: "e",
    valueName: "HOSTS",
    description: "Comma-separated endpoints (host or host:port)",
  },
  nodes: {
    type: "string",
    short: "n",
    valueName: "HOSTS",
    description: "Comma-separated target nodes (host or host:port)",
  },
  insecure: {
    type: "boolean",
    short: "i",
    description: "Maintenance mode: server-only TLS, no client certificate",
  },
} as const satisfies Record<string, OptionDef>;

/** --talosconfig of the day-2 commands. */
export const TALOSCONFIG_OPTION = {
  type: "string",
  valueName: "FILE",
  description: "talosconfig (default $TALOSCONFIG, then the state directory of homelab.yaml)",
} as const satisfies OptionDef;

/** A `--node-timeout` saying what is waited for and its default. */
export function nodeTimeoutOption(what: string) {
  return { type: "string", valueName: "DURATION", description: what } as const satisfies OptionDef;
}

export const OFFLINE_OPTION = {
  type: "boolean",
  description:
    "Do not register the schematic with the Image Factory (air-gapped labs; the factory you use must know it)",
} as const satisfies OptionDef;

export const ENGINE_OPTION = {
  type: "string",
  valueName: "ENGINE",
  choices: ["tofu", "direct"],
  description: "Provisioning engine (default: 'engine' in homelab.yaml, else tofu)",
} as const satisfies OptionDef;

export const KUBECONFIG_OPTION = {
  type: "string",
  valueName: "FILE",
  description: "kubeconfig (default $KUBECONFIG, then the state directory of homelab.yaml)",
} as const satisfies OptionDef;

export const STATE_DIR_OPTION = {
  type: "string",
  valueName: "DIR",
  description: "State directory (default .homelab/<cluster> next to the config)",
} as const satisfies OptionDef;

export const PARALLEL_OPTION = {
  type: "string",
  valueName: "N",
  description: "How many nodes to plan and apply at once (default 8)",
} as const satisfies OptionDef;

export const NODE_TIMEOUT_OPTION = {
  type: "string",
  valueName: "DURATION",
  description: "How long to wait for a node that does not answer (default 2m; e.g. 30s, 5m)",
} as const satisfies OptionDef;

export const INFRA_DIR_OPTION = {
  type: "string",
  valueName: "DIR",
  description: "infrastructure directory (default infrastructure/ next to the config)",
} as const satisfies OptionDef;

/** The options of `homelab up` (here so `--help` does not load the pipeline). */
export const UP_OPTIONS = {
  engine: ENGINE_OPTION,
  simulate: {
    type: "boolean",
    description:
      "Run everything in-process against the emulators (no hardware, no accounts; asks on a terminal only)",
  },
  offline: OFFLINE_OPTION,
  "state-dir": STATE_DIR_OPTION,
  parallel: PARALLEL_OPTION,
  reinstall: {
    type: "string",
    multiple: true,
    valueName: "NODE",
    description:
      "A node known as configured that was wiped and is in maintenance mode again: allow sending it its config",
  },
  "node-timeout": NODE_TIMEOUT_OPTION,
  "cert-fingerprint": {
    type: "string",
    multiple: true,
    valueName: "NODE=SHA256",
    description:
      "Pin a node's maintenance-mode certificate (base64 sha256 SPKI, as on its console; like talosctl --cert-fingerprint)",
  },
} as const satisfies OptionDefs;

/** The options of `homelab plan` (here so `--help` does not load the pipeline). */
export const PLAN_OPTIONS = {
  engine: ENGINE_OPTION,
  simulate: { type: "boolean", description: "Plan against the simulated lab" },
  parallel: PARALLEL_OPTION,
  "node-timeout": NODE_TIMEOUT_OPTION,
} as const satisfies OptionDefs;

/** The options of `homelab lab` (here so `--help` does not load the pipeline). */
export const LAB_OPTIONS = {
  "state-dir": {
    type: "string",
    valueName: "DIR",
    description: "Where to write the lab's files (default .homelab/<cluster>/lab)",
  },
  bare: {
    type: "boolean",
    description: "Do not run `up` against the lab (nodes stay in maintenance mode)",
  },
  parallel: PARALLEL_OPTION,
} as const satisfies OptionDefs;
