import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { isDeepStrictEqual } from "node:util";
import type { Application } from "@talos-homelab/argo-bootstrap";
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
  rootApplication: Application;
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

/**
 * The directory Argo CD's paths are relative to: the Git checkout holding homelab.yaml (the nearest
 * directory upwards with a `.git`), or homelab.yaml's own directory outside a checkout.
 */
export function gitopsCheckout(loaded: LoadedConfig): string {
  for (let dir = loaded.dir; ; dir = dirname(dir)) {
    if (existsSync(join(dir, ".git"))) return dir;
    if (dirname(dir) === dir) return loaded.dir;
  }
}

/** `<argocd.path>/bootstrap.yaml`: the root Application that is applied, and how it stands against homelab.yaml. */
export interface BootstrapFile {
  /** Absolute path of the file. */
  file: string;
  /** What `init`/`render` write there: the library's bootstrapYamlText of homelab.yaml's argocd section. */
  text: string;
  /**
   * in-sync: the file is what homelab.yaml renders; drifted: it is not; missing: the GitOps tree is here
   * but the file is not; self-managed: the tree renders the file too (the root would manage itself);
   * no-tree: `argocd.path` is not checked out here (the rendered text is applied).
   */
  state: "in-sync" | "drifted" | "missing" | "self-managed" | "no-tree";
  /** The Application the file holds (when it parses as one), else the one `text` holds. */
  application: Application;
  /** For drifted, missing and self-managed: what is wrong and the fix. */
  problem?: { message: string; hint: string };
}

/** The paths (a.b[0].c) where two parsed YAML values differ, at most `limit`. */
function differences(a: unknown, b: unknown, path = "", out: string[] = [], limit = 5): string[] {
  if (out.length >= limit || isDeepStrictEqual(a, b)) return out;
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;
  if (isObject(a) && isObject(b) && Array.isArray(a) === Array.isArray(b)) {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)]))
      differences(
        a[key],
        b[key],
        Array.isArray(a) ? `${path}[${key}]` : path ? `${path}.${key}` : key,
        out,
        limit,
      );
  } else out.push(path || "(the document)");
  return out;
}

/**
 * Reads `<argocd.path>/bootstrap.yaml` in the project's checkout and holds it against what homelab.yaml's
 * argocd section renders (the library's bootstrapYamlText, the one place the root Application is built).
 */
export async function readBootstrapFile(
  argo: ArgoBootstrapModule,
  loaded: LoadedConfig,
  argocd: ArgocdConfig,
): Promise<BootstrapFile> {
  const text = argo.bootstrapYamlText({
    repoURL: argocd.repoURL,
    path: argocd.path,
    targetRevision: argocd.targetRevision,
    namespace: argocd.namespace,
  });
  const [rendered] = argo.parseManifests(text) as [Application];
  const tree = join(gitopsCheckout(loaded), argocd.path);
  const file = join(tree, "bootstrap.yaml");
  const shown = relative(loaded.dir, file) || file;
  const hint = "run `homelab render` to write it from homelab.yaml's argocd section, then commit it";
  let committed: string;
  try {
    committed = await readFile(file, "utf8");
  } catch {
    if (!existsSync(tree)) return { file, text, state: "no-tree", application: rendered };
    return {
      file,
      text,
      state: "missing",
      application: rendered,
      problem: { message: `${shown} does not exist: it is the root Application that gets applied`, hint },
    };
  }
  let parsed: unknown[];
  try {
    parsed = argo.parseManifests(committed);
  } catch (error) {
    const reason = argo.isArgoBootstrapError(error) ? error.rawMessage : String(error);
    return {
      file,
      text,
      state: "drifted",
      application: rendered,
      problem: { message: `${shown}: ${reason}`, hint },
    };
  }
  const [first] = parsed as [Application | undefined];
  const application = first?.kind === "Application" ? first : rendered;
  if (parsed.length === 1 && isDeepStrictEqual(first, rendered)) {
    if (await rendersItself(argo, tree, rendered))
      return {
        file,
        text,
        state: "self-managed",
        application,
        problem: {
          message: `${argocd.path} renders bootstrap.yaml itself: the root Application would manage itself`,
          hint: "list the apps in a kustomization.yaml there, without bootstrap.yaml (Argo CD renders every YAML file of a directory without one)",
        },
      };
    return { file, text, state: "in-sync", application };
  }
  const where =
    parsed.length === 1 ? differences(first, rendered).join(", ") : `${parsed.length} documents, not 1`;
  return {
    file,
    text,
    state: "drifted",
    application,
    problem: { message: `${shown} does not match homelab.yaml's argocd section (${where})`, hint },
  };
}

/** True when the tree at `dir` renders the root Application itself (bootstrap.yaml listed, or no kustomization). */
async function rendersItself(argo: ArgoBootstrapModule, dir: string, root: Application): Promise<boolean> {
  try {
    const { objects } = await argo.readGitOpsTree({ dir });
    return objects.some(
      (o) =>
        o.kind === "Application" &&
        isDeepStrictEqual(
          [(o.metadata as { name?: unknown })?.name, (o.metadata as { namespace?: unknown })?.namespace],
          [root.metadata.name, root.metadata.namespace],
        ),
    );
  } catch (error) {
    // a tree that is broken here is Argo CD's to report
    if (!argo.isArgoBootstrapError(error)) throw error;
    return false;
  }
}

/** The root Application to apply: bootstrap.yaml, refused when it is missing or drifted from homelab.yaml. */
async function rootApplicationToApply(argo: ArgoBootstrapModule, loaded: LoadedConfig, argocd: ArgocdConfig) {
  const bootstrap = await readBootstrapFile(argo, loaded, argocd);
  if (bootstrap.problem)
    throw new HomelabError("CONFIG_INVALID", bootstrap.problem.message, { hint: bootstrap.problem.hint });
  return bootstrap.application;
}

/**
 * Application names the project declares: the root app's and every Application the root's path renders
 * (its kustomization followed wherever it leads, e.g. ../apps), in the order the tree lists them.
 */
export async function declaredApplications(
  argo: ArgoBootstrapModule,
  loaded: LoadedConfig,
  argocd: ArgocdConfig,
): Promise<{ root: Application; children: string[] }> {
  const { application: root } = await readBootstrapFile(argo, loaded, argocd);
  const children: string[] = [];
  try {
    const tree = await argo.readGitOpsTree({ dir: join(gitopsCheckout(loaded), argocd.path) });
    for (const object of tree.objects) {
      const name = (object.metadata as { name?: unknown } | undefined)?.name;
      if (object.kind === "Application" && typeof name === "string" && name !== root.metadata.name)
        if (!children.includes(name)) children.push(name);
    }
  } catch (error) {
    // a tree that is missing or broken here has no apps to list
    if (!argo.isArgoBootstrapError(error)) throw error;
  }
  return { root, children };
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
  const rootApplication = await rootApplicationToApply(argo, loaded, argocd);
  const objects: unknown[] = [rootApplication];
  try {
    objects.push(...(await argo.readGitOpsTree({ dir: join(gitopsCheckout(loaded), argocd.path) })).objects);
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
