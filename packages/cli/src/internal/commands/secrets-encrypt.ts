import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { encrypt } from "@talos-homelab/sops";
import type { RunFn } from "../cli/spec.js";
import { writeFileAtomic } from "../fs/atomic.js";
import { requireRecipients, secretsTarget } from "./secrets-common.js";

/** `homelab secrets encrypt FILE`: a clear file to the SOPS format, on stdout, to --output, or in place. */
export const run: RunFn = async (inv) => {
  const target = await secretsTarget(inv);
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
    inv.out.result({ written: path, recipients }, `encrypted ${path} for ${recipients.length} recipient(s)`);
  } else {
    inv.out.result({ encrypted }, encrypted);
  }
  return 0;
};
