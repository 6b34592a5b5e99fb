import { readdir, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { ArgoBootstrapModule } from "../adapters/argo-bootstrap.js";

/** What `bootstrapArgoCd` gets beyond homelab.yaml's argocd section. */
export interface ArgoSettings {
  /** True when the root app or the committed tree under `argocd.path` uses sync waves. */
  syncWaves: boolean;
  /** The chart values, with the Application health check when sync waves are on. */
  values: Record<string, unknown>;
}

async function manifestFiles(dir: string): Promise<string[]> {
  let entries: import("node:fs").Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true, recursive: true });
  } catch {
    return [];
  }
  return entries
    .filter((e) => e.isFile() && /\.ya?ml$/i.test(e.name))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/**
 * Looks for sync-wave annotations in the root Application and in the YAML under `treeDir` (the
 * committed `argocd.path`; missing is fine). Waves need the Application health check in argocd-cm, or
 * Argo CD moves to the next wave before the apps of the previous one are healthy.
 */
export async function argoSettings(options: {
  argo: ArgoBootstrapModule;
  treeDir: string;
  rootApplication: unknown;
  values?: Record<string, unknown>;
}): Promise<ArgoSettings> {
  const { argo } = options;
  const objects: unknown[] = [options.rootApplication];
  for (const file of await manifestFiles(resolve(options.treeDir))) {
    try {
      objects.push(...argo.parseManifests(await readFile(file, "utf8")));
    } catch {
      // not a manifest we can read (templated, broken): Argo CD reports those itself
    }
  }
  const syncWaves = argo.usesSyncWaves(objects);
  const values = options.values ?? {};
  return { syncWaves, values: syncWaves ? argo.withApplicationHealthCheck(values) : values };
}
