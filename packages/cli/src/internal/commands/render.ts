import { join, relative, resolve } from "node:path";
import { loadTalosConfig } from "../adapters/talos-config.js";
import type { RunFn } from "../cli/spec.js";
import { type FileToWrite, writeFilesAtomic } from "../fs/atomic.js";
import { nodeIntent, nodeVersion } from "../plan/intent.js";
import { schematicOf } from "../plan/schematic.js";
import { loadProject, stateDirOf, stringOption } from "./common.js";
import { loadOrCreateSecrets, renderFullConfigs } from "./full-config.js";
import { renderTfvarsFile } from "./tfvars.js";

/** `homelab render [--out DIR] [--full]` */
export const run: RunFn = async (inv) => {
  const { ctx, out, options } = inv;
  const loaded = await loadProject(inv, { resolveSecrets: false });
  const { config } = loaded;
  const tc = await loadTalosConfig("homelab render", options.full ? "generate" : "patches");
  const outDir = stringOption(inv, "out");
  const base = outDir ? resolve(ctx.cwd, outDir) : join(loaded.dir, "infrastructure");
  const patchDir = outDir ? join(base, "talos") : join(base, "files");
  const tofuDir = outDir ? join(base, "tofu") : base;
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
  const tfvars = await renderTfvarsFile(config, schematic.id, tc);
  if (tfvars) files.push({ path: join(tofuDir, tfvars.name), content: tfvars.content });
  else out.warn("the tofu runner is not part of this build yet: homelab.auto.tfvars.json was not written");
  if (options.full) {
    const stateDir = stateDirOf(inv, loaded);
    const secrets = await loadOrCreateSecrets(tc, stateDir);
    if (secrets.file) files.push(secrets.file);
    files.push(
      ...renderFullConfigs(tc, config, secrets.bundle, {
        talosDir: join(base, "talos"),
        schematicId: schematic.id,
      }),
    );
  }
  await writeFilesAtomic(files);
  const written = files.map((f) => relative(ctx.cwd, f.path) || f.path);
  out.result({ written, schematicId: schematic.id }, () => written.map((p) => `wrote ${p}`).join("\n"));
  return 0;
};
