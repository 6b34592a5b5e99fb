import type { OptionDef } from "../cli/command.js";

/** How the `talos` commands (and rotate-token) reach nodes. */
export const TALOS_CONNECTION = {
  talosconfig: {
    type: "string",
    valueName: "FILE",
    description: "talosconfig (default $TALOSCONFIG, then ~/.talos/config)",
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

export const ENGINE_OPTION = {
  type: "string",
  valueName: "ENGINE",
  choices: ["tofu", "direct"],
  description: "Provisioning engine (default: 'engine' in homelab.yaml, else tofu)",
} as const satisfies OptionDef;

export const KUBECONFIG_OPTION = {
  type: "string",
  valueName: "FILE",
  description: "kubeconfig (default $KUBECONFIG, then the state dir's)",
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

export const INFRA_DIR_OPTION = {
  type: "string",
  valueName: "DIR",
  description: "infrastructure directory (default infrastructure/ next to the config)",
} as const satisfies OptionDef;
