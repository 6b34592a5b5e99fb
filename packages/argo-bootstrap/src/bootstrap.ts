import {
  type ApplicationWaitStatus,
  type ApplyRootApplicationResult,
  applicationWaitStatus,
  applyRootApplication,
  type InitialAdminPassword,
  readInitialAdminPassword,
  waitForApplication,
} from "./application.js";
import {
  ARGOCD_CHART_REPO_URL,
  ARGOCD_CHART_VERSION,
  ARGOCD_NAMESPACE,
  ARGOCD_RELEASE_NAME,
  FIELD_MANAGER,
} from "./constants.js";
import { ArgoBootstrapError } from "./errors.js";
import type { ChartSource, Helm, HelmRelease } from "./helm.js";
import { deepEqual, type ProgressEvent, type Sleep, throwIfAborted } from "./internal/util.js";
import { createKubeClient, type KubeClient, type KubeObject } from "./kube.js";
import { withApplicationHealthCheck } from "./manifests.js";
import { type RolloutReport, waitForRollouts } from "./rollout.js";

/** The default chart source: the argo-helm repository, added as `argo`. */
export const DEFAULT_CHART_SOURCE: ChartSource = {
  type: "repo",
  repoURL: ARGOCD_CHART_REPO_URL,
  repoName: "argo",
  chart: "argo-cd",
};

/** Options for {@link installArgoCd}. */
export interface InstallArgoCdOptions {
  helm: Helm;
  /** Exact chart version (default {@link ARGOCD_CHART_VERSION}). */
  chartVersion?: string;
  /** Chart values (typed object, sent on stdin). */
  values?: Record<string, unknown>;
  /** Add the Application health check to `configs.cm` (do this when sync waves order child apps). */
  syncWaves?: boolean;
  /** Default {@link DEFAULT_CHART_SOURCE}; `{ type: "oci", ref }` for OCI. */
  source?: ChartSource;
  namespace?: string;
  /** Helm's `--timeout` (default 10 minutes). */
  timeoutMs?: number;
  /** Run `helm upgrade --install` even when the release already has this version and these values. */
  force?: boolean;
  rollbackOnFailure?: boolean;
  signal?: AbortSignal;
  onProgress?: (event: ProgressEvent) => void;
}

/** What {@link installArgoCd} did. */
export interface InstallArgoCdResult {
  /** `unchanged` when the deployed release already had this chart version and these values. */
  action: "installed" | "upgraded" | "unchanged";
  release: HelmRelease;
  helmVersion: string;
  /** The chart version before (undefined on a first install). */
  previousChartVersion: string | undefined;
}

/**
 * Installs (or upgrades) Argo CD as the Helm release `argocd` in namespace `argocd` with a pinned chart
 * version. A re-run with the same version and values changes nothing.
 *
 * @throws ArgoBootstrapError HELM_NOT_FOUND, HELM_FAILED, HELM_TIMEOUT, INVALID_OPTIONS, ABORTED
 */
export async function installArgoCd(options: InstallArgoCdOptions): Promise<InstallArgoCdResult> {
  const { helm } = options;
  const namespace = options.namespace ?? ARGOCD_NAMESPACE;
  const chartVersion = options.chartVersion ?? ARGOCD_CHART_VERSION;
  const source = options.source ?? DEFAULT_CHART_SOURCE;
  const values =
    options.syncWaves === true ? withApplicationHealthCheck(options.values) : (options.values ?? {});
  const signal = options.signal === undefined ? {} : { signal: options.signal };
  throwIfAborted(options.signal);
  const { version: helmVersion, major } = await helm.version(signal);
  options.onProgress?.({
    type: "helm-version",
    message: `using Helm ${helmVersion}`,
    version: helmVersion,
    major,
  });
  const existing = await helm.getRelease({ release: ARGOCD_RELEASE_NAME, namespace, ...signal });
  if (
    existing !== undefined &&
    existing.status === "deployed" &&
    existing.chartVersion === chartVersion &&
    options.force !== true
  ) {
    const current = await helm.getValues({ release: ARGOCD_RELEASE_NAME, namespace, ...signal });
    if (deepEqual(current, values)) {
      options.onProgress?.({
        type: "helm-unchanged",
        message: `Helm release ${namespace}/${ARGOCD_RELEASE_NAME} already runs chart ${chartVersion} with these values`,
        chartVersion,
      });
      return {
        action: "unchanged",
        release: existing,
        helmVersion,
        previousChartVersion: existing.chartVersion,
      };
    }
  }
  let installSource = source;
  if (source.type === "repo" && source.useRepoFlag !== true) {
    const name = source.repoName ?? "argo";
    options.onProgress?.({ type: "helm-repo", message: `helm repo add ${name} ${source.repoURL}` });
    const added = await helm.repoAdd({ name, url: source.repoURL, ...signal });
    if (added === "conflict") {
      // the user's own repository entry by that name stays; install straight from the URL instead
      options.onProgress?.({
        type: "helm-repo-conflict",
        message: `helm repository "${name}" points elsewhere: left alone, installing with --repo ${source.repoURL}`,
      });
      installSource = { ...source, useRepoFlag: true };
    } else {
      await helm.repoUpdate({ names: [name], ...signal });
    }
  }
  options.onProgress?.({
    type: "helm-install",
    message: `helm upgrade --install ${ARGOCD_RELEASE_NAME} (chart ${chartVersion}, Helm ${major})`,
    chartVersion,
    previousChartVersion: existing?.chartVersion,
  });
  const release = await helm.upgradeInstall({
    release: ARGOCD_RELEASE_NAME,
    namespace,
    source: installSource,
    version: chartVersion,
    values,
    createNamespace: true,
    wait: true,
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.rollbackOnFailure === undefined ? {} : { rollbackOnFailure: options.rollbackOnFailure }),
    ...signal,
  });
  options.onProgress?.({
    type: "helm-done",
    message: `Helm release ${namespace}/${release.name} revision ${release.revision} ${release.status}`,
    revision: release.revision,
  });
  return {
    action: existing === undefined ? "installed" : "upgraded",
    release,
    helmVersion,
    previousChartVersion: existing?.chartVersion,
  };
}

/** Options for {@link upgradeArgoCd}. */
export interface UpgradeArgoCdOptions extends InstallArgoCdOptions {
  /** The chart version to move to. */
  chartVersion: string;
  /** When given, the rollouts are awaited after the upgrade. */
  kubeconfig?: string;
  kube?: KubeClient;
  /** Called with the version change before anything is changed; return false to stop. */
  confirm?: (change: ChartVersionChange) => boolean | Promise<boolean>;
  /** Only report the change. */
  dryRun?: boolean;
  pollIntervalMs?: number;
  sleep?: Sleep;
  now?: () => number;
}

/** The chart version change an upgrade makes. */
export interface ChartVersionChange {
  from: string | undefined;
  to: string;
  changed: boolean;
}

/** What {@link upgradeArgoCd} did. */
export interface UpgradeArgoCdResult extends ChartVersionChange {
  applied: boolean;
  install?: InstallArgoCdResult;
  rollouts?: RolloutReport[];
}

/**
 * Shows the chart version change (`chart-version-change` event, `confirm` callback, result) and then
 * upgrades the release, unless `dryRun` or `confirm` says no.
 *
 * @throws ArgoBootstrapError like {@link installArgoCd}, plus ROLLOUT_TIMEOUT / ROLLOUT_FAILED when waiting
 */
export async function upgradeArgoCd(options: UpgradeArgoCdOptions): Promise<UpgradeArgoCdResult> {
  const namespace = options.namespace ?? ARGOCD_NAMESPACE;
  const current = await options.helm.getRelease({
    release: ARGOCD_RELEASE_NAME,
    namespace,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  const change: ChartVersionChange = {
    from: current?.chartVersion,
    to: options.chartVersion,
    changed: current?.chartVersion !== options.chartVersion,
  };
  options.onProgress?.({
    type: "chart-version-change",
    message: change.changed
      ? `argo-cd chart ${change.from ?? "(not installed)"} -> ${change.to}`
      : `argo-cd chart stays at ${change.to}`,
    ...change,
  });
  if (options.dryRun === true) return { ...change, applied: false };
  if (options.confirm !== undefined && !(await options.confirm(change))) return { ...change, applied: false };
  const install = await installArgoCd(options);
  const result: UpgradeArgoCdResult = { ...change, applied: install.action !== "unchanged", install };
  if (options.kubeconfig !== undefined || options.kube !== undefined) {
    result.rollouts = await waitForRollouts({
      ...(options.kube === undefined ? {} : { kube: options.kube }),
      ...(options.kubeconfig === undefined ? {} : { kubeconfig: options.kubeconfig }),
      namespace,
      ...pick(options, ["pollIntervalMs", "sleep", "now", "signal", "onProgress", "timeoutMs"]),
    });
  }
  return result;
}

/** Options for {@link bootstrapArgoCd}. */
export interface BootstrapArgoCdOptions extends Omit<InstallArgoCdOptions, "timeoutMs"> {
  /** kubeconfig YAML text. */
  kubeconfig: string;
  /** The Kubernetes client to use instead of one built from `kubeconfig`. */
  kube?: KubeClient;
  /** The root Application (see {@link buildRootApplication}). */
  rootApplication: KubeObject;
  /** Overall limit for the whole bootstrap (default 15 minutes). */
  timeoutMs?: number;
  /** Read `argocd-initial-admin-secret` at the end (default false). */
  readAdminPassword?: boolean;
  /** Secrets the GitOps tree's apps read, applied (with their namespaces) before the root app. */
  clusterSecrets?: readonly ClusterSecret[];
  /** How long a Degraded root may last before failing (default 30 s). */
  degradedGraceMs?: number;
  pollIntervalMs?: number;
  sleep?: Sleep;
  now?: () => number;
}

/** A Secret an app of the GitOps tree reads; the values come from the caller, never from Git. */
export interface ClusterSecret {
  namespace: string;
  name: string;
  /** Key to value; the values are secret and never appear in results, events or errors. */
  data: Readonly<Record<string, string>>;
}

/** What {@link bootstrapArgoCd} did and found. */
export interface BootstrapResult {
  chartVersion: string;
  helm: InstallArgoCdResult;
  /** The cluster secrets applied (names only), `changed` when the apply moved them. */
  clusterSecrets: { namespace: string; name: string; changed: boolean }[];
  rollouts: RolloutReport[];
  rootApplication: ApplyRootApplicationResult & { status: ApplicationWaitStatus };
  /** Present when `readAdminPassword` was asked for; the password is a redacting {@link SecretText}. */
  adminPassword?: InitialAdminPassword;
  /** True when nothing had to change (a re-run). */
  unchanged: boolean;
}

/**
 * Installs Argo CD with Helm, waits for its rollouts, applies the root Application and waits until it
 * is Synced and Healthy. Running it again on a bootstrapped cluster changes nothing.
 *
 * @example
 * ```ts
 * const result = await bootstrapArgoCd({
 *   helm: createHelm({ run: createProcessRunner() }),
 *   kubeconfig,
 *   rootApplication: buildRootApplication({ repoURL: "https://github.com/me/homelab.git", path: "cluster/app-of-apps" }),
 * });
 * ```
 * @throws ArgoBootstrapError HELM_NOT_FOUND, HELM_FAILED, HELM_TIMEOUT, ROLLOUT_TIMEOUT, ROLLOUT_FAILED,
 *   SYNC_TIMEOUT, SYNC_FAILED, APP_DEGRADED, KUBE_API_ERROR, INVALID_OPTIONS, ABORTED
 */
export async function bootstrapArgoCd(options: BootstrapArgoCdOptions): Promise<BootstrapResult> {
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? 15 * 60_000;
  const deadline = now() + timeoutMs;
  const remaining = (): number => {
    const left = deadline - now();
    if (left <= 0) {
      throw new ArgoBootstrapError(
        "SYNC_TIMEOUT",
        `the bootstrap did not finish within ${Math.round(timeoutMs / 1000)}s`,
      );
    }
    return left;
  };
  const namespace = options.namespace ?? ARGOCD_NAMESPACE;
  const chartVersion = options.chartVersion ?? ARGOCD_CHART_VERSION;
  const kube = options.kube ?? createKubeClient({ kubeconfig: options.kubeconfig });
  const common = {
    kube,
    ...pick(options, ["pollIntervalMs", "sleep", "now", "signal", "onProgress"]),
  };
  const helm = await installArgoCd({ ...options, chartVersion, timeoutMs: remaining() });
  const rollouts = await waitForRollouts({ ...common, namespace, timeoutMs: remaining() });
  const clusterSecrets = await applyClusterSecrets(kube, options.clusterSecrets ?? [], options.onProgress);
  const applied = await applyRootApplication({
    ...common,
    application: withNamespace(options.rootApplication, namespace),
    crdTimeoutMs: remaining(),
  });
  const status = await waitForApplication({
    ...common,
    name: applied.name,
    namespace: applied.namespace,
    timeoutMs: remaining(),
    ...(options.degradedGraceMs === undefined ? {} : { degradedGraceMs: options.degradedGraceMs }),
  });
  const result: BootstrapResult = {
    chartVersion,
    helm,
    clusterSecrets,
    rollouts,
    rootApplication: { ...applied, status },
    unchanged: helm.action === "unchanged" && !applied.changed && clusterSecrets.every((s) => !s.changed),
  };
  if (options.readAdminPassword === true) {
    result.adminPassword = await readInitialAdminPassword({
      ...common,
      namespace,
      waitMs: Math.min(60_000, remaining()),
    });
  }
  options.onProgress?.({
    type: "bootstrap-done",
    message: result.unchanged
      ? "Argo CD was already bootstrapped; nothing changed"
      : "Argo CD is installed and the root app is Synced and Healthy",
    unchanged: result.unchanged,
  });
  return result;
}

function pick<T extends object, K extends keyof T>(object: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const key of keys) if (object[key] !== undefined) out[key] = object[key];
  return out;
}

/** The root Application moved into Argo CD's namespace (and its destination, which is that namespace too). */
function withNamespace(application: KubeObject, namespace: string): KubeObject {
  const app = application as KubeObject & { spec?: { destination?: { namespace?: string } } };
  const destination = app.spec?.destination;
  return {
    ...app,
    metadata: { ...app.metadata, namespace },
    ...(app.spec === undefined
      ? {}
      : {
          spec: {
            ...app.spec,
            ...(destination === undefined ? {} : { destination: { ...destination, namespace } }),
          },
        }),
  } as KubeObject;
}

async function applyClusterSecrets(
  kube: KubeClient,
  secrets: readonly ClusterSecret[],
  onProgress: ((event: ProgressEvent) => void) | undefined,
): Promise<{ namespace: string; name: string; changed: boolean }[]> {
  const out: { namespace: string; name: string; changed: boolean }[] = [];
  for (const secret of secrets) {
    const namespaceRef = { apiVersion: "v1", kind: "Namespace", name: secret.namespace };
    if ((await kube.get(namespaceRef)) === undefined) {
      await kube.apply(
        { apiVersion: "v1", kind: "Namespace", metadata: { name: secret.namespace } },
        {
          fieldManager: FIELD_MANAGER,
        },
      );
    }
    const ref = { apiVersion: "v1", kind: "Secret", namespace: secret.namespace, name: secret.name };
    const before = await kube.get(ref);
    const data = encodeSecretData(secret.data);
    const changed = before === undefined || !deepEqual(before.data, data);
    if (changed) {
      await kube.apply(
        {
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name: secret.name, namespace: secret.namespace },
          type: "Opaque",
          data,
        } as KubeObject,
        { fieldManager: FIELD_MANAGER },
      );
    }
    onProgress?.({
      type: "cluster-secret",
      message: `Secret ${secret.namespace}/${secret.name} ${before === undefined ? "created" : changed ? "updated" : "unchanged"}`,
      namespace: secret.namespace,
      name: secret.name,
      changed,
    });
    out.push({ namespace: secret.namespace, name: secret.name, changed });
  }
  return out;
}

/** What {@link planArgoCd} found: each step of {@link bootstrapArgoCd} with what it would change. */
export interface ArgoCdPlan {
  /** Helm's version (`helm version`), as the install would use it. */
  helmVersion: string;
  release: {
    name: string;
    namespace: string;
    action: "install" | "upgrade" | "none";
    /** The deployed chart version and status; undefined before the first install. */
    live: { chartVersion: string; status: string; revision: number } | undefined;
    chartVersion: string;
    /** True when the release's user-supplied values differ from the ones the install would pass. */
    valuesChanged: boolean;
  };
  clusterSecrets: { namespace: string; name: string; action: "create" | "update" | "none" }[];
  rootApplication: {
    name: string;
    namespace: string;
    action: "create" | "update" | "none";
    /** The spec as applied now; undefined when the Application does not exist. */
    liveSpec: unknown;
    spec: unknown;
    /** Sync and health by the `argocd app wait` rules; undefined when it does not exist. */
    status: ApplicationWaitStatus | undefined;
  };
  changed: boolean;
}

/**
 * The plan form of {@link bootstrapArgoCd}: reads the live release (chart version and values), the cluster
 * secrets and the root Application, and says what a bootstrap would change. Changes nothing.
 *
 * @throws ArgoBootstrapError HELM_NOT_FOUND, HELM_FAILED, KUBE_API_ERROR, INVALID_OPTIONS
 */
export async function planArgoCd(options: BootstrapArgoCdOptions): Promise<ArgoCdPlan> {
  const namespace = options.namespace ?? ARGOCD_NAMESPACE;
  const chartVersion = options.chartVersion ?? ARGOCD_CHART_VERSION;
  const signal = options.signal === undefined ? {} : { signal: options.signal };
  const kube = options.kube ?? createKubeClient({ kubeconfig: options.kubeconfig });
  const values =
    options.syncWaves === true ? withApplicationHealthCheck(options.values) : (options.values ?? {});
  const { version: helmVersion } = await options.helm.version(signal);
  const live = await options.helm.getRelease({ release: ARGOCD_RELEASE_NAME, namespace, ...signal });
  const liveValues =
    live === undefined
      ? undefined
      : await options.helm.getValues({ release: ARGOCD_RELEASE_NAME, namespace, ...signal });
  const valuesChanged = liveValues === undefined || !deepEqual(liveValues, values);
  const releaseAction =
    live === undefined
      ? "install"
      : live.status !== "deployed" ||
          live.chartVersion !== chartVersion ||
          valuesChanged ||
          options.force === true
        ? "upgrade"
        : "none";
  const clusterSecrets: ArgoCdPlan["clusterSecrets"] = [];
  for (const secret of options.clusterSecrets ?? []) {
    const before = await kube.get({
      apiVersion: "v1",
      kind: "Secret",
      namespace: secret.namespace,
      name: secret.name,
    });
    const data = encodeSecretData(secret.data);
    clusterSecrets.push({
      namespace: secret.namespace,
      name: secret.name,
      action: before === undefined ? "create" : deepEqual(before.data, data) ? "none" : "update",
    });
  }
  const root = withNamespace(options.rootApplication, namespace) as KubeObject & { spec?: unknown };
  const liveRoot = await kube.get({
    apiVersion: root.apiVersion,
    kind: root.kind,
    namespace,
    name: root.metadata.name,
  });
  const rootAction =
    liveRoot === undefined ? "create" : deepEqual(liveRoot.spec, root.spec) ? "none" : "update";
  return {
    helmVersion,
    release: {
      name: ARGOCD_RELEASE_NAME,
      namespace,
      action: releaseAction,
      live:
        live === undefined
          ? undefined
          : { chartVersion: live.chartVersion, status: live.status, revision: live.revision },
      chartVersion,
      valuesChanged: live !== undefined && valuesChanged,
    },
    clusterSecrets,
    rootApplication: {
      name: root.metadata.name,
      namespace,
      action: rootAction,
      liveSpec: liveRoot?.spec,
      spec: root.spec,
      status: liveRoot === undefined ? undefined : applicationWaitStatus(liveRoot),
    },
    changed:
      releaseAction !== "none" || rootAction !== "none" || clusterSecrets.some((c) => c.action !== "none"),
  };
}

function encodeSecretData(data: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(data).map(([key, value]) => [key, Buffer.from(value).toString("base64")]),
  );
}
