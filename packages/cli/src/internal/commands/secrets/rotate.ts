import { readFile } from "node:fs/promises";
import { rotate } from "@talos-homelab/sops";
import { defineCommand } from "../../cli/command.js";
import { writeFileAtomic } from "../../fs/atomic.js";
import { requireAgeIdentities } from "../../secrets/keys.js";
import { RECIPIENTS_OPTION, requireRecipients, SECRETS_FILE_ARG, secretsTarget } from "./common.js";

/** `homelab secrets rotate [FILE]`: a new data key, encrypted for the configured (or --recipients) set. */
export const command = defineCommand({
  name: "rotate",
  summary: "Re-encrypt under a new data key for the configured (or --recipients) recipient set",
  args: [SECRETS_FILE_ARG],
  options: { recipients: RECIPIENTS_OPTION },
  async run(inv) {
    const target = await secretsTarget(inv, inv.options.recipients);
    const recipients = requireRecipients(target);
    const { identities } = await requireAgeIdentities(inv.ctx.env, inv.ctx.homedir);
    const next = await rotate(await readFile(target.file, "utf8"), {
      format: target.format,
      identities,
      recipients,
      source: target.file,
    });
    await writeFileAtomic(target.file, next, 0o600);
    inv.out.result(
      { file: target.file, recipients },
      `re-encrypted ${target.file} under a new data key for ${recipients.length} recipient(s)`,
    );
    return 0;
  },
});
