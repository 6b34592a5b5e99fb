import {
  type ApplicationWaitStatus,
  type ApplyRootApplicationResult,
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
  /** The root Application (see {@link buildRootApplication}). */
  rootApplication: KubeObject;
  /** Overall limit for the whole bootstrap (default 15 minutes). */
  timeoutMs?: number;
  /** Read `argocd-initial-admin-secret` at the end (default false). */
  readAdminPassword?: boolean;
  /** How long a Degraded root may last before failing (default 30 s). */
  degradedGraceMs?: number;
  pollIntervalMs?: number;
  sleep?: Sleep;
  now?: () => number;
}

/** What {@link bootstrapArgoCd} did and found. */
export interface BootstrapResult {
  chartVersion: string;
  helm: InstallArgoCdResult;
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
  const kube = createKubeClient({ kubeconfig: options.kubeconfig });
  const common = {
    kube,
    ...pick(options, ["pollIntervalMs", "sleep", "now", "signal", "onProgress"]),
  };
  const helm = await installArgoCd({ ...options, chartVersion, timeoutMs: remaining() });
  const rollouts = await waitForRollouts({ ...common, namespace, timeoutMs: remaining() });
  const applied = await applyRootApplication({
    ...common,
    application: options.rootApplication,
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
    rollouts,
    rootApplication: { ...applied, status },
    unchanged: helm.action === "unchanged" && !applied.changed,
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
