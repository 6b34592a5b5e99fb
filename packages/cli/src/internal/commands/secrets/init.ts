import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { ageRecipientOf, generateAgeKey } from "@talos-homelab/sops";
import { parseDocument } from "yaml";
import { defineCommand } from "../../cli/command.js";
import { type FileToWrite, writeFilesAtomic } from "../../fs/atomic.js";
import { defaultAgeKeyFile, loadAgeIdentities } from "../../secrets/keys.js";
import { exists } from "./common.js";

const SECRETS_FILE = "secrets.sops.yaml";

/** `homelab secrets init`: an age identity (found the way sops finds it, or created) and the project wiring. */
export const command = defineCommand({
  name: "init",
  summary:
    "Find or create an age identity (SOPS_AGE_KEY, SOPS_AGE_KEY_FILE, sops's keys.txt) and add secrets: to homelab.yaml",
  async run({ ctx, out, flags }) {
    const files: FileToWrite[] = [];
    const found = await loadAgeIdentities(ctx.env, ctx.homedir);
    let keyFile: string | undefined;
    let identity = found.identities[0];
    let created = false;
    if (identity === undefined) {
      const key = await generateAgeKey();
      identity = key.identity;
      keyFile = defaultAgeKeyFile(ctx.env, ctx.homedir);
      const stamp = new Date(ctx.clock.now()).toISOString().replace(/\.\d+Z$/, "Z");
      files.push({
        path: keyFile,
        content: `# created: ${stamp}\n# public key: ${key.recipient}\n${key.identity}\n`,
        mode: 0o600,
      });
      created = true;
    }
    const recipient = await ageRecipientOf(identity);

    const configPath = resolve(ctx.cwd, flags.config ?? "homelab.yaml");
    let configChange: "added" | "recipient-added" | "unchanged" | "absent" = "absent";
    if (await exists(configPath)) {
      const doc = parseDocument(await readFile(configPath, "utf8"));
      const section = doc.get("secrets");
      if (section === undefined) {
        doc.set("secrets", doc.createNode({ file: SECRETS_FILE, recipients: [recipient] }));
        configChange = "added";
      } else {
        const recipients = doc.getIn(["secrets", "recipients"]) as { toJSON(): unknown } | undefined;
        const list = (recipients?.toJSON() as string[] | undefined) ?? [];
        if (list.includes(recipient)) configChange = "unchanged";
        else {
          doc.setIn(["secrets", "recipients"], doc.createNode([...list, recipient]));
          configChange = "recipient-added";
        }
      }
      if (configChange !== "unchanged") files.push({ path: configPath, content: doc.toString() });
      const sopsYaml = join(dirname(configPath), ".sops.yaml");
      if (!(await exists(sopsYaml))) {
        const file = (doc.getIn(["secrets", "file"]) as string | undefined) ?? SECRETS_FILE;
        files.push({
          path: sopsYaml,
          content: `# Lets the sops tool encrypt and edit ${file} for the same recipients as homelab.yaml.\ncreation_rules:\n  - path_regex: ${file.replace(/[.]/g, "\\\\.")}$\n    age: ${recipient}\n`,
        });
      }
    }
    await writeFilesAtomic(files);
    out.result({ recipient, keyFile: keyFile ?? found.sources[0], created, config: configChange }, () =>
      [
        created
          ? `created an age identity in ${keyFile} (0600; back it up, never commit it)`
          : `using the age identity from ${found.sources[0]}`,
        `recipient: ${recipient}`,
        configChange === "added"
          ? `added secrets: { file: ${SECRETS_FILE}, recipients: [${recipient}] } to homelab.yaml`
          : "",
        configChange === "recipient-added"
          ? "added the recipient to secrets.recipients; someone who can already decrypt must run `homelab secrets rotate`"
          : "",
      ]
        .filter((line) => line !== "")
        .join("\n"),
    );
    return 0;
  },
});
