import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { encrypt } from "@talos-homelab/sops";
import { defineCommand } from "../../cli/command.js";
import { writeFileAtomic } from "../../fs/atomic.js";
import { RECIPIENTS_OPTION, requireRecipients, secretsTarget } from "./common.js";

/** `homelab secrets encrypt FILE`: a clear file to the SOPS format, on stdout, to --output, or in place. */
export const command = defineCommand({
  name: "encrypt",
  summary: "Encrypt a clear file in the SOPS format (stdout, --output or --in-place)",
  args: [{ name: "file", description: "Clear YAML, JSON or dotenv file", required: true }],
  options: {
    output: { type: "string", short: "o", valueName: "FILE", description: "Write here (0600)" },
    "in-place": { type: "boolean", short: "i", description: "Replace FILE with its encrypted form" },
    recipients: RECIPIENTS_OPTION,
    "encrypted-regex": {
      type: "string",
      valueName: "REGEX",
      description: "Encrypt only values under keys matching REGEX (default: all but *_unencrypted)",
    },
  },
  async run(inv) {
    const target = await secretsTarget(inv, inv.options.recipients);
    const recipients = requireRecipients(target);
    const regex = inv.options["encrypted-regex"];
    const encrypted = await encrypt(await readFile(target.file, "utf8"), {
      format: target.format,
      recipients,
      source: target.file,
      ...(typeof regex === "string" ? { encryptedRegex: regex } : {}),
    });
    const output = inv.options["in-place"] === true ? target.file : inv.options.output;
    if (typeof output === "string") {
      const path = resolve(inv.ctx.cwd, output);
      await writeFileAtomic(path, encrypted, 0o600);
      inv.out.result(
        { written: path, recipients },
        `encrypted ${path} for ${recipients.length} recipient(s)`,
      );
    } else {
      inv.out.result({ encrypted }, encrypted);
    }
    return 0;
  },
});
