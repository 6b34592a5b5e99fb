import { access } from "node:fs/promises";
import { defineCommand } from "../../cli/command.js";
import { editEncrypted } from "../../secrets/edit.js";
import { requireAgeIdentities } from "../../secrets/keys.js";
import { RECIPIENTS_OPTION, requireRecipients, SECRETS_FILE_ARG, secretsTarget } from "./common.js";

/** `homelab secrets edit [FILE]`: decrypt to a private temp file, $EDITOR, re-encrypt; no clear text left behind. */
export const command = defineCommand({
  name: "edit",
  summary: "Decrypt to a private 0600 temp file, run $EDITOR, re-encrypt; the clear text is always removed",
  args: [SECRETS_FILE_ARG],
  options: { recipients: RECIPIENTS_OPTION },
  async run(inv) {
    const target = await secretsTarget(inv, inv.options.recipients);
    const { identities } = await requireAgeIdentities(inv.ctx.env, inv.ctx.homedir);
    const isNew = await access(target.file).then(
      () => false,
      () => true,
    );
    const changed = await editEncrypted({
      file: target.file,
      format: target.format,
      identities,
      recipients: isNew ? requireRecipients(target) : target.recipients,
      env: inv.ctx.env,
      signal: inv.ctx.signal,
    });
    inv.out.result(
      { file: target.file, changed },
      changed ? `re-encrypted ${target.file}` : `${target.file} unchanged`,
    );
    return 0;
  },
});
