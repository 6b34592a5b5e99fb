import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { HomelabError } from "../../errors.js";
import { loadArgoBootstrap } from "../adapters/argo-bootstrap.js";
import { defineCommand } from "../cli/command.js";
import { type FileToWrite, writeFilesAtomic } from "../fs/atomic.js";
import { pathExists } from "../fs/exists.js";
import {
  CLUSTER_SKELETON,
  GITIGNORE_LINES,
  HOMELAB_YAML,
  INFRASTRUCTURE_SKELETON,
  SCHEMA_FILE_NAME,
} from "../templates.js";

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
    if ((await pathExists(configPath)) && options.force !== true) {
      throw new HomelabError("FILE_EXISTS", `${flags.config ?? "homelab.yaml"} already exists`, {
        hint: "pass --force to overwrite it",
      });
    }
    files.push({ path: configPath, content: HOMELAB_YAML });
    // the modeline in homelab.yaml points here: an editor validates and completes without node_modules
    const { homelabJsonSchema } = await import("../config/schema.js");
    files.push({
      path: join(root, SCHEMA_FILE_NAME),
      content: `${JSON.stringify(homelabJsonSchema(), null, 2)}\n`,
    });
    const gitignore = join(root, ".gitignore");
    const current = (await pathExists(gitignore)) ? await readFile(gitignore, "utf8") : "";
    const have = new Set(current.split("\n").map((l) => l.trim()));
    const missing = GITIGNORE_LINES.filter((l) => !have.has(l));
    if (missing.length > 0) {
      const sep = current === "" || current.endsWith("\n") ? "" : "\n";
      files.push({
        path: gitignore,
        content: `${current}${sep}# homelab: state and secrets\n${missing.join("\n")}\n`,
      });
    } else skipped.push(".gitignore");
    // the root Application the template's argocd section renders: what `up` applies
    const { parse } = await import("yaml");
    const { bootstrapYamlText } = await loadArgoBootstrap();
    const { argocd } = parse(HOMELAB_YAML) as { argocd: Parameters<typeof bootstrapYamlText>[0] };
    const cluster = {
      ...CLUSTER_SKELETON,
      [`${argocd.path}/bootstrap.yaml`]: bootstrapYamlText(argocd),
    };
    for (const [rel, content] of Object.entries({ ...cluster, ...INFRASTRUCTURE_SKELETON })) {
      const top = rel.split("/")[0] as string;
      if (await pathExists(join(root, top))) {
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
        "Next: edit homelab.yaml (each key is explained there), check it with `homelab doctor`,",
        "try it all with `homelab up --simulate`, then `homelab image urls` (boot each node from that ISO)",
        "and `homelab up`.",
      ].join("\n"),
    );
    return 0;
  },
});
