import { defineCommand, type OptionDefs } from "../cli/command.js";

/** The options of `homelab doctor` (here so `--help` loads nothing heavy). */
export const DOCTOR_OPTIONS = {
  live: { type: "boolean", description: "Also check the live cluster and Cloudflare" },
} as const satisfies OptionDefs;

/** `homelab doctor [--live]` */
export const command = defineCommand({
  name: "doctor",
  summary:
    "Lint homelab.yaml with every library's rules (--live: also reachability, versions, health, tunnel audit)",
  options: DOCTOR_OPTIONS,
  async run(inv) {
    const { runDoctor } = await import("./doctor-run.js");
    return runDoctor(inv);
  },
});
