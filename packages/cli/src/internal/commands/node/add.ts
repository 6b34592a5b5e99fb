import { defineCommand, type OptionDef } from "../../cli/command.js";
import { nodeTimeoutOption, OFFLINE_OPTION, STATE_DIR_OPTION, TALOSCONFIG_OPTION } from "../options.js";
import { DAY2_OPTIONS } from "../upgrade/options.js";

/** The options of `homelab node add`. */
export const NODE_ADD_OPTIONS = {
  simulate: DAY2_OPTIONS.simulate,
  role: {
    type: "string",
    valueName: "ROLE",
    choices: ["controlplane", "worker"],
    description: "With --address: the new node's role (default worker)",
  },
  address: {
    type: "string",
    valueName: "IP",
    description: "Write NAME into homelab.yaml with this address (comments kept), then join it",
  },
  "install-disk": {
    type: "string",
    valueName: "DEVICE",
    description: "With --address: the install disk (default the one of a node of the same role)",
  },
  interface: {
    type: "string",
    valueName: "NAME",
    description:
      "With --address: the network interface (default: as a node of the same role, with the same prefix length and gateway)",
  },
  gateway: { type: "string", valueName: "IP", description: "With --address: the interface's gateway" },
  "cert-fingerprint": {
    type: "string",
    valueName: "SHA256",
    description:
      "The SPKI fingerprint of the node's maintenance-mode certificate (as talosctl --cert-fingerprint)",
  },
  talosconfig: TALOSCONFIG_OPTION,
  "node-timeout": nodeTimeoutOption(
    "How long to wait for the node to answer, join, be Ready in Kubernetes and the cluster to be healthy (default 10m)",
  ),
  offline: OFFLINE_OPTION,
  "state-dir": STATE_DIR_OPTION,
} as const satisfies Record<string, OptionDef>;

/** `homelab node add [NAME]` */
export const command = defineCommand({
  name: "add",
  summary:
    "Join a node: render and apply its machine config, wait until it joined and the cluster is healthy",
  description:
    "NAME listed in homelab.yaml (or, without NAME, every listed node not in the cluster yet) is joined: its machine config is rendered and applied in maintenance mode (certificate checked as `up` does), then it is waited for until it runs (a control plane: until it is an etcd member), until its Kubernetes Node is registered and Ready, and until the cluster is healthy. With --address, NAME is first written into homelab.yaml (comments kept). Against `homelab lab`, a machine is powered on for it. Shows the plan first; --yes skips the question.",
  options: NODE_ADD_OPTIONS,
  args: [{ name: "NAME", description: "The node's name (also its hostname)" }],
  examples: [
    "homelab node add worker3 --address 192.168.50.23",
    "homelab node add cp4 --role controlplane --address 192.168.50.14 --yes",
    "homelab node add   # every node of homelab.yaml not in the cluster yet",
  ],
  async run(inv) {
    const { runNodeAdd } = await import("./add-run.js");
    return runNodeAdd(inv);
  },
});
