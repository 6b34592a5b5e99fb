import { loadLibrary } from "./load-module.js";

// The talos-config surface the CLI uses, as fixed in CONTRACTS.md.

export type ConfigDocument = Record<string, unknown>;

export interface InterfaceIntent {
  name?: string;
  selector?: Record<string, unknown>;
  addresses?: string[];
  gateway?: string;
  routes?: Record<string, unknown>[];
  dhcp?: boolean;
  mtu?: number;
  vlans?: Record<string, unknown>[];
  vip?: string;
}

export interface NodeIntent {
  target: string;
  role: "controlplane" | "worker";
  hostname: string;
  interfaces: InterfaceIntent[];
  nodeIp?: { validSubnets: string[] };
  nameservers?: string[];
  cluster: {
    endpoint: string;
    podSubnets: string[];
    serviceSubnets: string[];
    allowSchedulingOnControlPlanes?: boolean;
    certSANs?: string[];
  };
  install?: { disk?: string; diskSelector?: Record<string, unknown>; wipe?: boolean; image?: string };
  timeServers?: string[];
  extensions?: {
    cloudflared?: { token: string; metrics?: string };
    tailscale?: { authKey: string; routes?: string[]; hostname?: string; extraArgs?: string[] };
  };
}

export interface LintFinding {
  code: string;
  severity: "error" | "warning" | "info";
  path: string;
  message: string;
  hint?: string;
}

export type SecretsBundle = object;

export interface TalosConfigModule {
  parseTalosVersion(version: string): { major: number; minor: number; patch: number };
  buildNodePatches(intent: NodeIntent): ConfigDocument[];
  corednsAddress(serviceSubnet: string): string;
  stringifyDocuments(docs: ConfigDocument[], options?: { redact?: boolean; comments?: boolean }): string;
  parseDocuments(text: string): ConfigDocument[];
  redactDocuments(docs: ConfigDocument[]): ConfigDocument[];
  applyPatches(base: ConfigDocument[], patches: ConfigDocument[]): ConfigDocument[];
  diffConfigs(before: ConfigDocument[], after: ConfigDocument[]): unknown;
  renderDiff(diff: unknown): string;
  lint(docs: ConfigDocument[], context: Record<string, unknown>): LintFinding[];
  createSchematic(options: { officialExtensions: string[]; extraKernelArgs?: string[] }): {
    yaml: string;
    id: string;
  };
  installerImage(options: { schematicId: string; version: string }): string;
  isoUrl(options: { schematicId: string; version: string; arch?: "amd64" | "arm64" }): string;
  generateSecrets(options?: Record<string, unknown>): SecretsBundle;
  secretsToYaml(bundle: SecretsBundle): string;
  secretsFromYaml(text: string): SecretsBundle;
  generateConfig(options: {
    secrets: SecretsBundle;
    role: "controlplane" | "worker";
    clusterName: string;
    endpoint: string;
    target: string;
    kubernetesVersion: string;
    patches?: ConfigDocument[];
  }): ConfigDocument[];
  generateTalosconfig(options: {
    secrets: SecretsBundle;
    contextName: string;
    endpoints: string[];
    nodes: string[];
    roles?: string[];
    ttlHours?: number;
  }): string;
}

const PATCHES = ["buildNodePatches", "stringifyDocuments", "parseTalosVersion"] as const;
const IMAGE = ["createSchematic", "installerImage", "isoUrl"] as const;
const GENERATE = [
  "generateSecrets",
  "secretsToYaml",
  "secretsFromYaml",
  "generateConfig",
  "generateTalosconfig",
] as const;

/** talos-config for patch rendering. */
export function loadTalosConfig(
  feature: string,
  needs: "patches" | "image" | "generate" | "lint" | "diff" = "patches",
): Promise<TalosConfigModule> {
  const needed =
    needs === "image"
      ? IMAGE
      : needs === "generate"
        ? [...PATCHES, ...GENERATE]
        : needs === "lint"
          ? ["lint", ...PATCHES]
          : needs === "diff"
            ? ["diffConfigs", "renderDiff", "parseDocuments", "redactDocuments", ...PATCHES]
            : PATCHES;
  return loadLibrary<TalosConfigModule>("@talos-homelab/talos-config", needed, feature);
}
