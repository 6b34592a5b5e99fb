import { join, relative, resolve } from "node:path";
import { loadTalosConfig } from "../adapters/talos-config.js";
import { defineCommand, type Invocation } from "../cli/command.js";
import type { LoadedConfig } from "../config/load.js";
import { type FileToWrite, writeFilesAtomic } from "../fs/atomic.js";
import { nodeIntent, nodeVersion } from "../plan/intent.js";
import { schematicOf } from "../plan/schematic.js";
import { loadProject, stateDirOf } from "./common.js";
import { loadOrCreateSecrets, renderFullConfigs } from "./full-config.js";
import { tfvarsInputOf } from "./tfvars.js";

/** The files `render` writes: patches without secrets, tfvars, and with `full` complete configs (0600). */
export async function renderFiles(
  inv: Invocation,
  loaded: LoadedConfig,
  options: { outDir?: string | undefined; full?: boolean },
): Promise<{ files: FileToWrite[]; schematicId: string }> {
  const { config } = loaded;
  const tc = await loadTalosConfig();
  const { renderTfvars, TFVARS_FILE_NAME } = await import("../../tofu/index.js");
  const base = options.outDir ? resolve(inv.ctx.cwd, options.outDir) : join(loaded.dir, "infrastructure");
  const patchDir = options.outDir ? join(base, "talos") : join(base, "files");
  const tofuDir = options.outDir ? join(base, "tofu") : base;
  const schematic = schematicOf(tc, config);
  const files: FileToWrite[] = [];
  for (const node of config.nodes) {
    const installImage = tc.installerImage({ schematicId: schematic.id, version: nodeVersion(config, node) });
    const docs = tc.buildNodePatches(nodeIntent(config, node, { installImage }));
    files.push({
      path: join(patchDir, `${node.name}.patch.yaml`),
      content: tc.stringifyDocuments(docs, { comments: true }),
    });
  }
  const installerImage = tc.installerImage({
    schematicId: schematic.id,
    version: config.cluster.talosVersion,
  });
  files.push({
    path: join(tofuDir, TFVARS_FILE_NAME),
    content: renderTfvars(tfvarsInputOf(config, installerImage)),
  });
  if (options.full) {
    const secrets = await loadOrCreateSecrets(tc, stateDirOf(inv, loaded));
    if (secrets.file) files.push(secrets.file);
    files.push(
      ...renderFullConfigs(tc, config, secrets.bundle, {
        talosDir: join(base, "talos"),
        schematicId: schematic.id,
      }),
    );
  }
  return { files, schematicId: schematic.id };
}

/** `homelab render [--out DIR] [--full]` */
export const command = defineCommand({
  name: "render",
  summary: "Write each node's Talos patches and the tofu variables (--full: complete configs + talosconfig)",
  options: {
    out: {
      type: "string",
      short: "o",
      valueName: "DIR",
      description: "Output directory (default: infrastructure/ next to the config)",
    },
    full: {
      type: "boolean",
      description:
        "Also write complete machine configs (from secrets.yaml, generated once) and a talosconfig",
    },
  },
  async run(inv) {
    const { ctx, out, options } = inv;
    const loaded = await loadProject(inv, { resolveSecrets: false });
    const { files, schematicId } = await renderFiles(inv, loaded, {
      outDir: options.out,
      full: options.full === true,
    });
    await writeFilesAtomic(files);
    const written = files.map((f) => ({
      path: relative(ctx.cwd, f.path) || f.path,
      mode: (f.mode ?? 0o644).toString(8),
    }));
    out.result({ written, schematicId }, () =>
      written.map((p) => `wrote ${p.path}${p.mode === "600" ? " (0600)" : ""}`).join("\n"),
    );
    return 0;
  },
});
