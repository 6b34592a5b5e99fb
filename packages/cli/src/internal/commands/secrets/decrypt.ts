import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { decrypt } from "@talos-homelab/sops";
import { stringify } from "yaml";
import { HomelabError } from "../../../errors.js";
import { defineCommand } from "../../cli/command.js";
import { writeFileAtomic } from "../../fs/atomic.js";
import { requireAgeIdentities } from "../../secrets/keys.js";
import { valueAt } from "../../secrets/store.js";
import { SECRETS_FILE_ARG, secretsTarget } from "./common.js";

/** `homelab secrets decrypt [FILE]`: the clear text on stdout or, with --output, in a 0600 file. */
export const command = defineCommand({
  name: "decrypt",
  summary: "Print the clear text (or --extract one value); --output writes a 0600 file",
  args: [SECRETS_FILE_ARG],
  options: {
    output: { type: "string", short: "o", valueName: "FILE", description: "Write here (0600)" },
    extract: { type: "string", valueName: "KEY.PATH", description: "Only the value at this key path" },
  },
  async run(inv) {
    const target = await secretsTarget(inv);
    const { identities } = await requireAgeIdentities(inv.ctx.env, inv.ctx.homedir);
    const result = await decrypt(await readFile(target.file, "utf8"), {
      format: target.format,
      identities,
      source: target.file,
    });
    let text = result.plaintext;
    let value: unknown = result.data;
    const extract = inv.options.extract;
    if (typeof extract === "string") {
      value = valueAt(result.data, extract);
      if (value === undefined) {
        throw new HomelabError("USAGE", `${target.file} has no value at ${extract}`);
      }
      text = typeof value === "string" ? value : stringify(value);
    }
    const output = inv.options.output;
    if (typeof output === "string") {
      const path = resolve(inv.ctx.cwd, output);
      await writeFileAtomic(path, text, 0o600);
      inv.out.result({ written: path }, `decrypted to ${path} (0600)`);
    } else {
      inv.out.result({ data: value }, text);
    }
    return 0;
  },
});
