import type * as ArgoBootstrapLibrary from "@talos-homelab/argo-bootstrap";
import type * as ArgoTestingLibrary from "@talos-homelab/argo-bootstrap/testing";

// Loaded on first use so `--help`/`--version` never pay for the Kubernetes client; the types are the library's own.

export type { ProcessRunner } from "@talos-homelab/argo-bootstrap";
export type { KubeEmulator } from "@talos-homelab/argo-bootstrap/testing";

export type ArgoBootstrapModule = typeof ArgoBootstrapLibrary;
export type ArgoTestingModule = typeof ArgoTestingLibrary;

/** @talos-homelab/argo-bootstrap, imported lazily. */
export function loadArgoBootstrap(): Promise<ArgoBootstrapModule> {
  return import("@talos-homelab/argo-bootstrap");
}

/** @talos-homelab/argo-bootstrap/testing (Kubernetes emulator + Helm stand-in), imported lazily. */
export function loadArgoTesting(): Promise<ArgoTestingModule> {
  return import("@talos-homelab/argo-bootstrap/testing");
}
