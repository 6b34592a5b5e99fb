import { readFile } from "node:fs/promises";
import { rotate } from "@talos-homelab/sops";
import type { RunFn } from "../cli/spec.js";
import { writeFileAtomic } from "../fs/atomic.js";
import { requireAgeIdentities } from "../secrets/keys.js";
import { requireRecipients, secretsTarget } from "./secrets-common.js";

/** `homelab secrets rotate [FILE]`: a new data key, encrypted for the configured (or --recipients) set. */
export const run: RunFn = async (inv) => {
  const target = await secretsTarget(inv);
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
};
