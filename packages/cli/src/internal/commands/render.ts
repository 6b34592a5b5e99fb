import { defineCommand, type OptionDefs } from "../cli/command.js";

/** The options of `homelab render` (here so `--help` loads nothing heavy). */
export const RENDER_OPTIONS = {
  out: {
    type: "string",
    short: "o",
    valueName: "DIR",
    description:
      "Output directory (default: infrastructure/ next to the config when it exists, else render/ in the git-ignored state directory)",
  },
  full: {
    type: "boolean",
    description: "Also write complete machine configs (from secrets.yaml, generated once) and a talosconfig",
  },
} as const satisfies OptionDefs;

/** `homelab render [--out DIR] [--full]` */
export const command = defineCommand({
  name: "render",
  summary:
    "Write each node's Talos patches, the tofu variables and <argocd.path>/bootstrap.yaml (--full: complete configs + talosconfig)",
  options: RENDER_OPTIONS,
  async run(inv) {
    const { runRender } = await import("./render-run.js");
    return runRender(inv);
  },
});
