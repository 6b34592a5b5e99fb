import { defineCommand } from "../cli/command.js";
import { LAB_OPTIONS } from "./options.js";

export const command = defineCommand({
  name: "lab",
  summary:
    "Run the simulated lab in the foreground (Ctrl-C stops it); writes a talosconfig, kubeconfig and Cloudflare URL",
  options: LAB_OPTIONS,
  async run(inv) {
    const { runLabCommand } = await import("./lab-run.js");
    return runLabCommand(inv);
  },
});
