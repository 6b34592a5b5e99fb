import { loadLibrary } from "./load-module.js";

// The argo-bootstrap surface the CLI uses, as fixed in CONTRACTS.md.

export type ProcessRunner = (
  command: string,
  args: string[],
  options?: { env?: Record<string, string>; signal?: AbortSignal; timeoutMs?: number; input?: string },
) => Promise<{ exitCode: number; stdout: string; stderr: string }>;

export interface ArgoBootstrapModule {
  createHelm(options: { run: ProcessRunner; bin?: string }): unknown;
  bootstrapArgoCd(options: {
    helm: unknown;
    kubeconfig: string;
    chartVersion: string;
    values?: Record<string, unknown>;
    rootApplication: unknown;
    timeoutMs?: number;
    onProgress?: (event: { type: string; message: string }) => void;
    signal?: AbortSignal;
  }): Promise<Record<string, unknown>>;
  upgradeArgoCd(options: {
    helm: unknown;
    chartVersion: string;
    kubeconfig?: string;
    values?: Record<string, unknown>;
    dryRun?: boolean;
    onProgress?: (event: { type: string; message: string }) => void;
    signal?: AbortSignal;
  }): Promise<{ from: string | undefined; to: string; changed: boolean; applied: boolean }>;
  readInitialAdminPassword(options: { kubeconfig: string }): Promise<unknown>;
  buildRootApplication(options: { repoURL: string; path: string; targetRevision?: string }): unknown;
  buildHelmApplication(options: {
    name: string;
    destinationNamespace: string;
    repoURL: string;
    chart: string;
    version: string;
  }): unknown;
  buildGitApplication(options: {
    name: string;
    destinationNamespace: string;
    repoURL: string;
    path: string;
    targetRevision?: string;
  }): unknown;
  toYaml(objects: readonly unknown[]): string;
}

export interface KubeEmulator {
  url: string;
  kubeconfig: string;
  close(): Promise<void>;
}

export interface ArgoTestingModule {
  createKubeEmulator(options?: { stepMs?: number; kubernetesVersion?: string }): Promise<KubeEmulator>;
  createHelmStandIn(options: { kube: KubeEmulator; pollMs?: number }): ProcessRunner;
}

/** argo-bootstrap, or a NOT_AVAILABLE error naming `feature`. */
export function loadArgoBootstrap(
  feature: string,
  needed: readonly string[] = ["bootstrapArgoCd", "createHelm"],
): Promise<ArgoBootstrapModule> {
  return loadLibrary<ArgoBootstrapModule>("@talos-homelab/argo-bootstrap", needed, feature);
}

/** argo-bootstrap/testing (Kubernetes emulator + Helm stand-in), or NOT_AVAILABLE. */
export function loadArgoTesting(feature: string): Promise<ArgoTestingModule> {
  return loadLibrary<ArgoTestingModule>(
    "@talos-homelab/argo-bootstrap/testing",
    ["createKubeEmulator", "createHelmStandIn"],
    feature,
  );
}
