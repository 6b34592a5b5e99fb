import { access } from "node:fs/promises";
import type { RunFn } from "../cli/spec.js";
import { editEncrypted } from "../secrets/edit.js";
import { requireAgeIdentities } from "../secrets/keys.js";
import { requireRecipients, secretsTarget } from "./secrets-common.js";

/** `homelab secrets edit [FILE]`: decrypt to a private temp file, $EDITOR, re-encrypt; no clear text left behind. */
export const run: RunFn = async (inv) => {
  const target = await secretsTarget(inv);
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
};
