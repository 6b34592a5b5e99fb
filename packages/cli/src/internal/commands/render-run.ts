import { stat } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { loadArgoBootstrap } from "../adapters/argo-bootstrap.js";
import { loadTalosConfig } from "../adapters/talos-config.js";
import type { Invocation } from "../cli/command.js";
import type { LoadedConfig } from "../config/load.js";
import { type FileToWrite, writeFilesAtomic } from "../fs/atomic.js";
import { readBootstrapFile } from "../pipeline/argo-settings.js";
import { nodePatches, nodeVersion } from "../plan/intent.js";
import { schematicOf } from "../plan/schematic.js";
import { renderSealedFullConfigs } from "../secrets/render-sealed.js";
import { stateSecretsOf } from "../secrets/state-secrets.js";
import { loadProject, stateDirOf } from "./common.js";
import { loadOrCreateSecrets, renderFullConfigs } from "./full-config.js";
import type { RENDER_OPTIONS } from "./render.js";
import { tfvarsInputOf } from "./tfvars.js";

/**
 * Where `render` writes without --out: the project's infrastructure/ when it has one (the tofu layer
 * reads it; `homelab init` git-ignores the generated files there), else `render/` in the state
 * directory, which is git-ignored. Never a new directory beside homelab.yaml.
 */
async function defaultRenderDir(inv: Invocation, loaded: LoadedConfig): Promise<string> {
  const infrastructure = join(loaded.dir, "infrastructure");
  try {
    if ((await stat(infrastructure)).isDirectory()) return infrastructure;
  } catch {
    // no tofu layer here
  }
  return join(stateDirOf(inv, loaded), "render");
}

/** The files `render` writes: patches without secrets, tfvars, and with `full` complete configs (0600). */
export async function renderFiles(
  inv: Invocation,
  loaded: LoadedConfig,
  options: { outDir?: string | undefined; full?: boolean },
): Promise<{ files: FileToWrite[]; schematicId: string; schematic: { yaml: string; id: string } }> {
  const { config } = loaded;
  const tc = await loadTalosConfig();
  const { renderTfvars, TFVARS_FILE_NAME } = await import("../../tofu/index.js");
  const base = options.outDir ? resolve(inv.ctx.cwd, options.outDir) : await defaultRenderDir(inv, loaded);
  const patchDir = options.outDir ? join(base, "talos") : join(base, "files");
  const tofuDir = options.outDir ? join(base, "tofu") : base;
  const schematic = schematicOf(tc, config);
  const files: FileToWrite[] = [];
  for (const node of config.nodes) {
    const installImage = tc.installerImage({ schematicId: schematic.id, version: nodeVersion(config, node) });
    const docs = nodePatches(tc, config, node, { installImage });
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
  if (options.full && loaded.secrets) {
    const state = stateSecretsOf(loaded, stateDirOf(inv, loaded), { env: inv.ctx.env });
    files.push(
      ...(await renderSealedFullConfigs(tc, config, state, (bundle) =>
        renderFullConfigs(tc, config, bundle, { talosDir: join(base, "talos"), schematicId: schematic.id }),
      )),
    );
  } else if (options.full) {
    const secrets = await loadOrCreateSecrets(tc, stateDirOf(inv, loaded));
    if (secrets.file) files.push(secrets.file);
    files.push(
      ...renderFullConfigs(tc, config, secrets.bundle, {
        talosDir: join(base, "talos"),
        schematicId: schematic.id,
      }),
    );
  }
  return { files, schematicId: schematic.id, schematic };
}

/**
 * `<argocd.path>/bootstrap.yaml` from homelab.yaml's argocd section, when that GitOps tree is checked out
 * here: the file `up` applies (it is source, committed, so it goes into the tree whatever --out says).
 */
async function bootstrapFileOf(loaded: LoadedConfig): Promise<FileToWrite | undefined> {
  const argocd = loaded.config.argocd;
  if (!argocd) return undefined;
  const bootstrap = await readBootstrapFile(await loadArgoBootstrap(), loaded, argocd);
  return bootstrap.state === "no-tree" ? undefined : { path: bootstrap.file, content: bootstrap.text };
}

/** The `homelab render` handler (loaded only when the command runs, so `--help` stays light). */
export async function runRender(inv: Invocation<typeof RENDER_OPTIONS>): Promise<number> {
  const { ctx, out, options } = inv;
  const loaded = await loadProject(inv, { resolveSecrets: false });
  const { files, schematicId } = await renderFiles(inv, loaded, {
    outDir: options.out,
    full: options.full === true,
  });
  // only here: `up` (tofu engine) renders too, and must refuse a drifted bootstrap.yaml, not rewrite it
  const bootstrap = await bootstrapFileOf(loaded);
  if (bootstrap) files.push(bootstrap);
  await writeFilesAtomic(files);
  const written = files.map((f) => ({
    path: relative(ctx.cwd, f.path) || f.path,
    mode: (f.mode ?? 0o644).toString(8),
  }));
  out.result({ written, schematicId }, () =>
    written.map((p) => `wrote ${p.path}${p.mode === "600" ? " (0600)" : ""}`).join("\n"),
  );
  return 0;
}
