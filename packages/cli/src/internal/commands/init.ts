import { access, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { HomelabError } from "../../errors.js";
import { defineCommand } from "../cli/command.js";
import { type FileToWrite, writeFilesAtomic } from "../fs/atomic.js";
import { CLUSTER_SKELETON, GITIGNORE_LINES, HOMELAB_YAML, INFRASTRUCTURE_SKELETON } from "../templates.js";

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** `homelab init` */
export const command = defineCommand({
  name: "init",
  summary:
    "Write a commented homelab.yaml, .gitignore entries and the cluster/ and infrastructure/ skeletons",
  options: { force: { type: "boolean", description: "Overwrite an existing homelab.yaml" } },
  async run({ ctx, out, flags, options }) {
    const configPath = resolve(ctx.cwd, flags.config ?? "homelab.yaml");
    const root = resolve(configPath, "..");
    const files: FileToWrite[] = [];
    const skipped: string[] = [];
    if ((await exists(configPath)) && options.force !== true) {
      throw new HomelabError("FILE_EXISTS", `${flags.config ?? "homelab.yaml"} already exists`, {
        hint: "pass --force to overwrite it",
      });
    }
    files.push({ path: configPath, content: HOMELAB_YAML });
    const gitignore = join(root, ".gitignore");
    const current = (await exists(gitignore)) ? await readFile(gitignore, "utf8") : "";
    const have = new Set(current.split("\n").map((l) => l.trim()));
    const missing = GITIGNORE_LINES.filter((l) => !have.has(l));
    if (missing.length > 0) {
      const sep = current === "" || current.endsWith("\n") ? "" : "\n";
      files.push({
        path: gitignore,
        content: `${current}${sep}# homelab: state and secrets\n${missing.join("\n")}\n`,
      });
    } else skipped.push(".gitignore");
    for (const [rel, content] of Object.entries({ ...CLUSTER_SKELETON, ...INFRASTRUCTURE_SKELETON })) {
      const top = rel.split("/")[0] as string;
      if (await exists(join(root, top))) {
        if (!skipped.includes(`${top}/`)) skipped.push(`${top}/`);
        continue;
      }
      files.push({ path: join(root, rel), content });
    }
    await writeFilesAtomic(files);
    const written = files.map((f) => f.path);
    out.result({ written, skipped }, () =>
      [
        ...written.map((p) => `wrote ${p}`),
        ...skipped.map((s) => `kept ${s} (exists)`),
        "",
        "Next: edit homelab.yaml, then `homelab image urls` (boot that ISO) and `homelab up`.",
      ].join("\n"),
    );
    return 0;
  },
});
