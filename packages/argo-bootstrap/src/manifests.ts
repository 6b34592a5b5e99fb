import { parseAllDocuments, stringify } from "yaml";
import {
  ARGOCD_NAMESPACE,
  IN_CLUSTER_SERVER,
  RESOURCES_FINALIZER,
  SYNC_WAVE_ANNOTATION,
} from "./constants.js";
import { ArgoBootstrapError } from "./errors.js";
import { isPinnedVersion, isRecord } from "./internal/util.js";

/** An `argoproj.io/v1alpha1` Application, as far as this package writes it. */
export interface Application {
  apiVersion: "argoproj.io/v1alpha1";
  kind: "Application";
  metadata: {
    name: string;
    namespace: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    finalizers?: string[];
  };
  spec: {
    project: string;
    source: ApplicationSource;
    destination: { server?: string; name?: string; namespace: string };
    syncPolicy?: SyncPolicy;
    [key: string]: unknown;
  };
}

/** `spec.source` of an Application. */
export interface ApplicationSource {
  repoURL: string;
  targetRevision?: string;
  path?: string;
  chart?: string;
  helm?: {
    releaseName?: string;
    valuesObject?: Record<string, unknown>;
    valueFiles?: string[];
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** `spec.syncPolicy` of an Application. */
export interface SyncPolicy {
  automated?: { prune?: boolean; selfHeal?: boolean; allowEmpty?: boolean; enabled?: boolean };
  syncOptions?: string[];
  retry?: { limit?: number; backoff?: { duration?: string; factor?: number; maxDuration?: string } };
  managedNamespaceMetadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
}

/** An `argoproj.io/v1alpha1` AppProject. */
export interface AppProject {
  apiVersion: "argoproj.io/v1alpha1";
  kind: "AppProject";
  metadata: {
    name: string;
    namespace: string;
    annotations?: Record<string, string>;
    labels?: Record<string, string>;
  };
  spec: {
    description?: string;
    sourceRepos: string[];
    destinations: { server?: string; name?: string; namespace: string }[];
    clusterResourceWhitelist?: { group: string; kind: string }[];
    namespaceResourceBlacklist?: { group: string; kind: string }[];
    orphanedResources?: { warn?: boolean };
    [key: string]: unknown;
  };
}

/** A kustomize `Kustomization` listing resources. */
export interface Kustomization {
  apiVersion: "kustomize.config.k8s.io/v1beta1";
  kind: "Kustomization";
  resources: string[];
  [key: string]: unknown;
}

/** Options shared by the Application builders. */
export interface ApplicationCommonOptions {
  name: string;
  /** Argo CD's namespace (default `argocd`). */
  namespace?: string;
  /** AppProject (default `default`). */
  project?: string;
  /** Namespace the app deploys into (required). */
  destinationNamespace: string;
  /** Default: the in-cluster server. */
  destinationServer?: string;
  /** Use a cluster name instead of `destinationServer`. */
  destinationName?: string;
  /** Sync wave; written as an integer string annotation. */
  syncWave?: number;
  /** Automated sync with prune + selfHeal (default true). */
  automated?: boolean;
  /** `CreateNamespace=true` (default true). */
  createNamespace?: boolean;
  /** `ServerSideApply=true` (default false; use it for apps that ship large CRDs). */
  serverSideApply?: boolean;
  /** Extra sync options (`Name=value`). */
  syncOptions?: string[];
  /** The resources finalizer (cascade delete); default true. */
  finalizer?: boolean;
  /** Retry limit (default 5; -1 retries forever). */
  retryLimit?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Labels for the namespace CreateNamespace makes (for example Pod Security labels). */
  namespaceLabels?: Record<string, string>;
}

/** Options for {@link buildHelmApplication}. */
export interface HelmApplicationOptions extends ApplicationCommonOptions {
  /** Chart repository URL; for OCI give `oci://registry/path` or the registry path. */
  repoURL: string;
  chart: string;
  /** Exact chart version (no latest, *, or ranges). */
  version: string;
  /** Helm release name (defaults to the Application name). */
  releaseName?: string;
  values?: Record<string, unknown>;
}

/** Options for {@link buildGitApplication}. */
export interface GitApplicationOptions extends ApplicationCommonOptions {
  repoURL: string;
  path: string;
  /** Branch, tag or commit (default `HEAD`). */
  targetRevision?: string;
}

/**
 * Builds a Helm-chart Application with a pinned chart version.
 *
 * @throws ArgoBootstrapError INVALID_OPTIONS when the version is not pinned or a name is invalid
 */
export function buildHelmApplication(options: HelmApplicationOptions): Application {
  if (!isPinnedVersion(options.version)) {
    throw new ArgoBootstrapError(
      "INVALID_OPTIONS",
      `chart version "${options.version}" for ${options.name} is not pinned: give one exact version (no latest, *, or ranges)`,
      { details: { name: options.name, version: options.version } },
    );
  }
  const repoURL = options.repoURL.startsWith("oci://")
    ? options.repoURL.slice("oci://".length)
    : options.repoURL;
  const helm: NonNullable<ApplicationSource["helm"]> = {};
  if (options.releaseName !== undefined) helm.releaseName = options.releaseName;
  if (options.values !== undefined) helm.valuesObject = options.values;
  const source: ApplicationSource = {
    repoURL,
    chart: options.chart,
    targetRevision: options.version,
    ...(Object.keys(helm).length === 0 ? {} : { helm }),
  };
  return buildApplication(options, source);
}

/**
 * Builds an Application that renders a path of a Git repository (plain YAML, kustomize or Helm).
 *
 * @throws ArgoBootstrapError INVALID_OPTIONS when a name is invalid
 */
export function buildGitApplication(options: GitApplicationOptions): Application {
  return buildApplication(options, {
    repoURL: options.repoURL,
    path: options.path,
    targetRevision: options.targetRevision ?? "HEAD",
  });
}

/** Options for {@link buildRootApplication}. */
export interface RootApplicationOptions {
  /** The GitOps repository. */
  repoURL: string;
  /** The directory holding the app-of-apps kustomization (for example `cluster/app-of-apps`). */
  path: string;
  /** Branch, tag or commit (default `HEAD`). */
  targetRevision?: string;
  /** Default `root`. */
  name?: string;
  namespace?: string;
  /** Retry limit for the root's syncs (default 10). */
  retryLimit?: number;
}

/**
 * Builds the root app-of-apps Application: project `default` (a project the root creates itself
 * would deadlock a fresh cluster), automated prune + selfHeal, server-side apply, a bounded retry,
 * and no resources finalizer (deleting the root must not cascade to every app).
 *
 * @throws ArgoBootstrapError INVALID_OPTIONS when a name is invalid
 */
export function buildRootApplication(options: RootApplicationOptions): Application {
  return buildApplication(
    {
      name: options.name ?? "root",
      namespace: options.namespace ?? ARGOCD_NAMESPACE,
      project: "default",
      destinationNamespace: options.namespace ?? ARGOCD_NAMESPACE,
      finalizer: false,
      createNamespace: false,
      serverSideApply: true,
      retryLimit: options.retryLimit ?? 10,
    },
    { repoURL: options.repoURL, path: options.path, targetRevision: options.targetRevision ?? "HEAD" },
  );
}

/**
 * The text of the GitOps tree's `bootstrap.yaml`: the root Application of {@link buildRootApplication}
 * as YAML under a comment saying where it comes from. It is the one file that gets applied by hand (the
 * root must not manage itself, so no kustomization lists it); write it from the same options the
 * bootstrap uses and compare it with the committed file to find drift.
 *
 * @throws ArgoBootstrapError INVALID_OPTIONS when a name is invalid
 */
export function bootstrapYamlText(options: RootApplicationOptions): string {
  return [
    "# The root app-of-apps Application, rendered from homelab.yaml's argocd section (homelab render).",
    "# `homelab up` / `homelab argo bootstrap` apply this file; it is not listed in kustomization.yaml:",
    "# the root must not manage itself. Project default, no cascade-delete finalizer.",
    toYaml([buildRootApplication(options)]),
  ].join("\n");
}

function buildApplication(options: ApplicationCommonOptions, source: ApplicationSource): Application {
  assertName(options.name, "name");
  assertLabel(options.destinationNamespace, "destinationNamespace");
  const annotations: Record<string, string> = { ...options.annotations };
  if (options.syncWave !== undefined) {
    if (!Number.isInteger(options.syncWave)) {
      throw new ArgoBootstrapError(
        "INVALID_OPTIONS",
        `syncWave must be an integer (got ${options.syncWave})`,
      );
    }
    annotations[SYNC_WAVE_ANNOTATION] = String(options.syncWave);
  }
  const syncOptions: string[] = [];
  if (options.createNamespace !== false) syncOptions.push("CreateNamespace=true");
  if (options.serverSideApply === true) syncOptions.push("ServerSideApply=true");
  for (const option of options.syncOptions ?? []) if (!syncOptions.includes(option)) syncOptions.push(option);
  const syncPolicy: SyncPolicy = {};
  if (options.automated !== false) syncPolicy.automated = { prune: true, selfHeal: true };
  if (syncOptions.length > 0) syncPolicy.syncOptions = syncOptions;
  if (options.namespaceLabels !== undefined)
    syncPolicy.managedNamespaceMetadata = { labels: options.namespaceLabels };
  syncPolicy.retry = {
    limit: options.retryLimit ?? 5,
    backoff: { duration: "10s", factor: 2, maxDuration: "5m" },
  };
  const destination: Application["spec"]["destination"] =
    options.destinationName !== undefined
      ? { name: options.destinationName, namespace: options.destinationNamespace }
      : { server: options.destinationServer ?? IN_CLUSTER_SERVER, namespace: options.destinationNamespace };
  const metadata: Application["metadata"] = {
    name: options.name,
    namespace: options.namespace ?? ARGOCD_NAMESPACE,
  };
  if (options.labels !== undefined && Object.keys(options.labels).length > 0)
    metadata.labels = { ...options.labels };
  if (Object.keys(annotations).length > 0) metadata.annotations = annotations;
  if (options.finalizer !== false) metadata.finalizers = [RESOURCES_FINALIZER];
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Application",
    metadata,
    spec: { project: options.project ?? "default", source, destination, syncPolicy },
  };
}

/** Options for {@link buildAppProject}. */
export interface AppProjectOptions {
  name: string;
  namespace?: string;
  description?: string;
  /** Allowed source repositories (Git URLs, chart repo URLs; globs allowed). */
  sourceRepos: string[];
  /** Allowed destination namespaces (on the in-cluster server unless `server` is given). */
  destinationNamespaces: string[];
  server?: string;
  /** Cluster-scoped kinds the project may manage (default: Namespace only). */
  clusterResources?: { group: string; kind: string }[];
  syncWave?: number;
}

/**
 * Builds an AppProject restricting source repositories and destination namespaces.
 *
 * @throws ArgoBootstrapError INVALID_OPTIONS when a list is empty or a name is invalid
 */
export function buildAppProject(options: AppProjectOptions): AppProject {
  assertName(options.name, "name");
  if (options.sourceRepos.length === 0 || options.destinationNamespaces.length === 0) {
    throw new ArgoBootstrapError(
      "INVALID_OPTIONS",
      `AppProject ${options.name} needs at least one source repo and one destination namespace`,
    );
  }
  const metadata: AppProject["metadata"] = {
    name: options.name,
    namespace: options.namespace ?? ARGOCD_NAMESPACE,
  };
  if (options.syncWave !== undefined)
    metadata.annotations = { [SYNC_WAVE_ANNOTATION]: String(options.syncWave) };
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "AppProject",
    metadata,
    spec: {
      ...(options.description === undefined ? {} : { description: options.description }),
      sourceRepos: [...options.sourceRepos],
      destinations: options.destinationNamespaces.map((namespace) => ({
        server: options.server ?? IN_CLUSTER_SERVER,
        namespace,
      })),
      clusterResourceWhitelist: options.clusterResources ?? [{ group: "", kind: "Namespace" }],
      orphanedResources: { warn: true },
    },
  };
}

/** Builds a kustomization listing `resources` (order kept, duplicates dropped). */
export function buildKustomization(options: { resources: string[] }): Kustomization {
  return {
    apiVersion: "kustomize.config.k8s.io/v1beta1",
    kind: "Kustomization",
    resources: [...new Set(options.resources)],
  };
}

/**
 * The Lua health check that gives child Applications a health in the parent (Argo CD has none built
 * in), so sync waves in an app-of-apps wait for each wave's apps to be healthy.
 */
export const APPLICATION_HEALTH_LUA: string = [
  "-- Report a child Application's own health; Progressing until it has one.",
  'local result = { status = "Progressing", message = "waiting for the application to report health" }',
  "if obj.status ~= nil and obj.status.health ~= nil and obj.status.health.status ~= nil then",
  "  result.status = obj.status.health.status",
  '  result.message = obj.status.health.message or ""',
  "end",
  "return result",
  "",
].join("\n");

/** The `argocd-cm` key that holds {@link APPLICATION_HEALTH_LUA}. */
export const APPLICATION_HEALTH_KEY = "resource.customizations.health.argoproj.io_Application";

/**
 * Returns a copy of Argo CD chart values with the Application health check in `configs.cm`
 * (needed when sync waves order child apps).
 */
export function withApplicationHealthCheck(values: Record<string, unknown> = {}): Record<string, unknown> {
  const configs = isRecord(values.configs) ? values.configs : {};
  const cm = isRecord(configs.cm) ? configs.cm : {};
  return {
    ...values,
    configs: { ...configs, cm: { ...cm, [APPLICATION_HEALTH_KEY]: APPLICATION_HEALTH_LUA } },
  };
}

/** True when any object carries a sync-wave annotation. */
export function usesSyncWaves(objects: readonly unknown[]): boolean {
  return objects.some(
    (o) =>
      isRecord(o) &&
      isRecord(o.metadata) &&
      isRecord(o.metadata.annotations) &&
      SYNC_WAVE_ANNOTATION in o.metadata.annotations,
  );
}

/**
 * Multi-document YAML for objects (documents separated by `---`). Strings that YAML 1.1 readers
 * (kubectl, Helm, Argo CD) would take for booleans or numbers, such as `yes`, `on` or `010`, are quoted.
 */
export function toYaml(objects: readonly unknown[]): string {
  return objects.map((o) => stringify(o, { lineWidth: 0, version: "1.1" })).join("---\n");
}

/**
 * Parses multi-document YAML into objects, skipping empty documents.
 *
 * @throws ArgoBootstrapError INVALID_MANIFEST on a YAML syntax error
 */
export function parseManifests(text: string): unknown[] {
  const docs = parseAllDocuments(text, { version: "1.1" });
  const out: unknown[] = [];
  for (const [index, doc] of docs.entries()) {
    if (doc.errors.length > 0) {
      throw new ArgoBootstrapError(
        "INVALID_MANIFEST",
        `YAML document ${index + 1}: ${doc.errors[0]!.message}`,
        {
          details: { document: index },
        },
      );
    }
    const value: unknown = doc.toJS();
    if (value !== null && value !== undefined) out.push(value);
  }
  return out;
}

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** @internal */
export function isDns1123Subdomain(value: string): boolean {
  return value.length <= 253 && DNS1123_SUBDOMAIN.test(value);
}

/** @internal */
export function isDns1123Label(value: string): boolean {
  return value.length <= 63 && DNS1123_LABEL.test(value);
}

function assertName(value: string, field: string): void {
  if (!isDns1123Subdomain(value)) {
    throw new ArgoBootstrapError(
      "INVALID_OPTIONS",
      `${field} "${value}" is not a valid Kubernetes name (lowercase letters, digits, '-', '.')`,
      {
        details: { field, value },
      },
    );
  }
}

function assertLabel(value: string, field: string): void {
  if (!isDns1123Label(value)) {
    throw new ArgoBootstrapError("INVALID_OPTIONS", `${field} "${value}" is not a valid namespace name`, {
      details: { field, value },
    });
  }
}
