import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { HomelabError } from "../../../errors.js";
import { defineCommand } from "../../cli/command.js";
import { confirm } from "../common.js";
import { TALOS_CONNECTION } from "../options.js";
import { targetsOf, withTalos } from "./shared.js";

/** `homelab talos apply FILE`: a dry run first (shown), then asked, then applied. */
export const command = defineCommand({
  name: "apply",
  summary: "Apply a machine configuration (shows the dry run, then asks; --yes skips)",
  args: [{ name: "file", description: "Machine config YAML", required: true }],
  options: {
    ...TALOS_CONNECTION,
    mode: {
      type: "string",
      valueName: "MODE",
      choices: ["auto", "no-reboot", "reboot", "staged", "try"],
      description: "Apply mode (default auto)",
    },
    "dry-run": { type: "boolean", description: "Only show what would change" },
  },
  run: (inv) =>
    withTalos(inv, async (client, nodes) => {
      const { out, ctx, args } = inv;
      const node = nodes?.[0];
      const file = resolve(ctx.cwd, args[0] as string);
      const data = await readFile(file, "utf8").catch((cause: unknown) => {
        throw new HomelabError("USAGE", `cannot read ${args[0]}`, { cause });
      });
      const mode = inv.options.mode ?? "auto";
      const request = { data, mode, ...(node ? { node } : {}) };
      const preview = await client.applyConfiguration({ ...request, dryRun: true });
      const text = (r: typeof preview) =>
        [`${r.node}: ${r.modeDetails}`, ...r.warnings.map((w) => `warning: ${w}`)].join("\n");
      if (inv.options["dry-run"] === true) {
        out.result(preview, () => text(preview));
        return 0;
      }
      out.info(`dry run:\n${text(preview)}`);
      if (!(await confirm(inv, `apply ${args[0]} to ${targetsOf(nodes)} (mode ${mode})?`))) {
        out.info("aborted: nothing changed");
        return 1;
      }
      const result = await client.applyConfiguration(request);
      out.result(result, () => text(result));
      return 0;
    }),
});
