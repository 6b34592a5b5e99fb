import { defineCommand, type OptionDef } from "../../cli/command.js";
import { nodeTimeoutOption, TALOS_CONNECTION } from "../options.js";
import { DAY2_OPTIONS } from "../upgrade/options.js";

/** The options of `homelab tunnel rotate-token`. */
export const ROTATE_TOKEN_OPTIONS = {
  simulate: DAY2_OPTIONS.simulate,
  ...TALOS_CONNECTION,
  "node-timeout": nodeTimeoutOption("How long to wait for each node's connector to come back (default 2m)"),
} as const satisfies Record<string, OptionDef>;

/** `homelab tunnel rotate-token`: a planned, resumable, rolling rotation of the tunnel's secret. */
export const command = defineCommand({
  name: "rotate-token",
  summary: "Give the tunnel a new secret and roll it to each node's cloudflared, one node at a time",
  description:
    "Shows the plan, asks (--yes skips), then: sets a new tunnel secret (Cloudflare refuses new connections with the old token; connectors up now stay up), updates one node's cloudflared ExtensionServiceConfig at a time and waits until that node's connector is back on the new token before the next, and only when every node has moved deletes the connections still on the old token. A node whose connector does not come back stops the roll with the others still connected; run the command again to resume.",
  options: ROTATE_TOKEN_OPTIONS,
  examples: ["homelab tunnel rotate-token", "homelab tunnel rotate-token --yes --json"],
  async run(inv) {
    const { runRotateToken } = await import("./rotate-token-run.js");
    return runRotateToken(inv);
  },
});
