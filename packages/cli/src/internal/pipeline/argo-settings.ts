import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { HomelabError } from "../../errors.js";
import type { ArgoBootstrapModule } from "../adapters/argo-bootstrap.js";
import type { LoadedConfig } from "../config/load.js";
import { resolveReference } from "../secrets/reference.js";

type ArgocdConfig = NonNullable<LoadedConfig["config"]["argocd"]>;

/** What `bootstrapArgoCd` gets beyond homelab.yaml's argocd section. */
export interface ArgoSettings {
  /** True when the root app or the tree it renders uses sync waves. */
  syncWaves: boolean;
  /** The chart values, with the Application health check when sync waves are on. */
  values: Record<string, unknown>;
  /** The root Application: `<argocd.path>/bootstrap.yaml`, which must match homelab.yaml. */
  rootApplication: ReturnType<ArgoBootstrapModule["buildRootApplication"]>;
  /** argocd.clusterSecrets with their values resolved (never logged). */
  clusterSecrets: { namespace: string; name: string; data: Record<string, string> }[];
  /** The options `bootstrapArgoCd`/`planArgoCd` take from homelab.yaml and the settings above. */
  bootstrap: {
    chartVersion: string;
    namespace: string;
    values: Record<string, unknown>;
    syncWaves: boolean;
    rootApplication: ArgoSettings["rootApplication"];
    clusterSecrets: ArgoSettings["clusterSecrets"];
  };
}

/** The root Application homelab.yaml's argocd section describes. */
export function rootApplicationOf(argo: ArgoBootstrapModule, argocd: ArgocdConfig) {
  return argo.buildRootApplication({
    repoURL: argocd.repoURL,
    path: argocd.path,
    targetRevision: argocd.targetRevision,
    namespace: argocd.namespace,
  });
}

/** The text of `<argocd.path>/bootstrap.yaml` as `init`/`render` write it. */
export function bootstrapYamlText(argo: ArgoBootstrapModule, argocd: ArgocdConfig): string {
  return [
    "# The root app-of-apps Application, rendered from homelab.yaml's argocd section (homelab render).",
    "# `homelab up` / `homelab argo bootstrap` apply this file; it is not listed in kustomization.yaml:",
    "# the root must not manage itself. Project default, no cascade-delete finalizer.",
    argo.toYaml([rootApplicationOf(argo, argocd)]),
  ].join("\n");
}

/**
 * Reads `<argocd.path>/bootstrap.yaml` (the Application that is applied) and checks it against homelab.yaml;
 * without the file, the Application homelab.yaml describes is used.
 */
async function readRootApplication(argo: ArgoBootstrapModule, loaded: LoadedConfig, argocd: ArgocdConfig) {
  const expected = rootApplicationOf(argo, argocd);
  const file = join(loaded.dir, argocd.path, "bootstrap.yaml");
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    return expected;
  }
  const [committed] = argo.parseManifests(text);
  if (JSON.stringify(committed) !== JSON.stringify(expected)) {
    throw new HomelabError("CONFIG_INVALID", `${file} does not match homelab.yaml's argocd section`, {
      hint: "run `homelab render` to write it again from homelab.yaml, then commit it",
    });
  }
  return expected;
}

async function resolveClusterSecrets(
  loaded: LoadedConfig,
  argocd: ArgocdConfig,
  env: Record<string, string | undefined>,
  placeholder: boolean,
  skipUnresolved: boolean,
): Promise<ArgoSettings["clusterSecrets"]> {
  const out: ArgoSettings["clusterSecrets"] = [];
  for (const [index, secret] of (argocd.clusterSecrets ?? []).entries()) {
    const data: Record<string, string> = {};
    let complete = true;
    for (const [key, ref] of Object.entries(secret.data)) {
      const where = `homelab.yaml argocd.clusterSecrets[${index}].data.${key}`;
      const resolved = await resolveReference(ref, { dir: loaded.dir, env, secrets: loaded.secrets });
      if ("value" in resolved) {
        data[key] = resolved.value;
        continue;
      }
      if (skipUnresolved) {
        complete = false;
        continue;
      }
      if (!placeholder)
        throw new HomelabError("SECRET_UNRESOLVED", `${where}: ${resolved.problem}`, {
          hint: resolved.hint ?? "set it, then re-run",
        });
      data[key] = "simulated-placeholder";
    }
    if (complete) out.push({ namespace: secret.namespace, name: secret.name, data });
  }
  return out;
}

/**
 * Everything `bootstrapArgoCd`/`planArgoCd` need beyond homelab.yaml's argocd section: the root Application
 * (from bootstrap.yaml), sync waves found anywhere the root's kustomization reaches (waves need the Application
 * health check in argocd-cm, or Argo CD moves on before a wave's apps are healthy), and the cluster secrets.
 */
export async function argoSettings(options: {
  argo: ArgoBootstrapModule;
  loaded: LoadedConfig;
  env: Record<string, string | undefined>;
  /** Use a placeholder for unresolved cluster secrets (the simulated lab). */
  placeholderSecrets?: boolean;
  /** Leave out cluster secrets whose references give no value (read-only commands). */
  skipUnresolvedSecrets?: boolean;
}): Promise<ArgoSettings> {
  const { argo, loaded } = options;
  const argocd = loaded.config.argocd;
  if (!argocd) throw new HomelabError("USAGE", "homelab.yaml has no 'argocd' section");
  const rootApplication = await readRootApplication(argo, loaded, argocd);
  const objects: unknown[] = [rootApplication];
  try {
    objects.push(...(await argo.readGitOpsTree({ dir: join(loaded.dir, argocd.path) })).objects);
  } catch (error) {
    // a tree that is missing or broken here is Argo CD's to report; waves cannot be read from it
    if (!argo.isArgoBootstrapError(error)) throw error;
  }
  const syncWaves = argo.usesSyncWaves(objects);
  const values = syncWaves ? argo.withApplicationHealthCheck(argocd.values ?? {}) : (argocd.values ?? {});
  const clusterSecrets = await resolveClusterSecrets(
    loaded,
    argocd,
    options.env,
    options.placeholderSecrets === true,
    options.skipUnresolvedSecrets === true,
  );
  return {
    syncWaves,
    values,
    rootApplication,
    clusterSecrets,
    bootstrap: {
      chartVersion: argocd.chartVersion,
      namespace: argocd.namespace,
      values,
      syncWaves,
      rootApplication,
      clusterSecrets,
    },
  };
}
