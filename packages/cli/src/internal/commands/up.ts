import { defineCommand } from "../cli/command.js";
import { UP_OPTIONS } from "./options.js";

/** `homelab up [--engine tofu|direct] [--simulate] [--yes] [--parallel N]` */
export const command = defineCommand({
  name: "up",
  summary: "Show the plan, ask, then bring the homelab to the state in homelab.yaml (resumable, idempotent)",
  options: UP_OPTIONS,
  examples: [
    "homelab up --simulate --config examples/homelab.yaml",
    "homelab up --engine direct --yes",
    "homelab up --reinstall node2 --cert-fingerprint node2=<fingerprint>",
  ],
  async run(inv) {
    const { runUpCommand } = await import("./up-run.js");
    return runUpCommand(inv);
  },
});
