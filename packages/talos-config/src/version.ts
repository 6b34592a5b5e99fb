import { TalosConfigError } from "./errors.js";

/** A parsed Talos version. `prerelease` is the part after `-` (e.g. `rc.1`), when present. */
export interface TalosVersion {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  readonly prerelease?: string;
}

/** The Talos release lines this package can build configs for. */
export type TalosLine = "v1.11" | "v1.12" | "v1.13" | "v1.14" | "v1.15";

/** Supported release lines, oldest first. */
export const SUPPORTED_TALOS_LINES: readonly TalosLine[] = Object.freeze([
  "v1.11",
  "v1.12",
  "v1.13",
  "v1.14",
  "v1.15",
]);

/**
 * The multi-document kinds this package models, as the `kind` field spells them. The unattended-install
 * kind is `UnattendedInstallConfig`, as Talos registers it; the official JSON schema spells it
 * `UnattendedInstall` (a documentation slip: Talos rejects that kind, and so does {@link supportsKind}).
 */
export type MultiDocKind =
  | "HostnameConfig"
  | "LinkConfig"
  | "LinkAliasConfig"
  | "DHCPv4Config"
  | "DHCPv6Config"
  | "VLANConfig"
  | "Layer2VIPConfig"
  | "ResolverConfig"
  | "TimeSyncConfig"
  | "StaticHostConfig"
  | "KubeSpanConfig"
  | "ExtensionServiceConfig"
  | "KubeletConfig"
  | "KubeNodeConfig"
  | "KubeClusterConfig"
  | "KubeNetworkConfig"
  | "KubeFlannelCNIConfig"
  | "KubeInlineManifestConfig"
  | "KubeExternalManifestConfig"
  | "UnattendedInstallConfig";

/** The kind name of the legacy document (`version: v1alpha1`, no `kind`). */
export const V1ALPHA1_KIND = "v1alpha1" as const;

/** First minor version (1.x) that accepts each multi-document kind. */
const KIND_SINCE: Readonly<Record<MultiDocKind, number>> = Object.freeze({
  ExtensionServiceConfig: 7,
  HostnameConfig: 12,
  LinkConfig: 12,
  LinkAliasConfig: 12,
  DHCPv4Config: 12,
  DHCPv6Config: 12,
  VLANConfig: 12,
  Layer2VIPConfig: 12,
  ResolverConfig: 12,
  TimeSyncConfig: 12,
  StaticHostConfig: 12,
  KubeSpanConfig: 13,
  KubeletConfig: 14,
  KubeNodeConfig: 14,
  KubeClusterConfig: 14,
  KubeNetworkConfig: 14,
  KubeFlannelCNIConfig: 14,
  KubeInlineManifestConfig: 14,
  KubeExternalManifestConfig: 14,
  UnattendedInstallConfig: 14,
});

/**
 * Every document kind each line registers (read from the Talos sources of v1.11.6, v1.12.11, v1.13.9,
 * v1.14.0-rc.1 and the v1.15 development line), as additions to the previous line; no line removed one.
 */
const REGISTERED_KINDS_ADDED: Readonly<Record<number, readonly string[]>> = Object.freeze({
  11: [
    "EthernetConfig",
    "EventSinkConfig",
    "ExistingVolumeConfig",
    "ExtensionServiceConfig",
    "KmsgLogConfig",
    "KubeSpanEndpointsConfig",
    "NetworkDefaultActionConfig",
    "NetworkRuleConfig",
    "PCIDriverRebindConfig",
    "RawVolumeConfig",
    "SideroLinkConfig",
    "SwapVolumeConfig",
    "TrustedRootsConfig",
    "UserVolumeConfig",
    "VolumeConfig",
    "WatchdogTimerConfig",
    "ZswapConfig",
  ],
  12: [
    "BondConfig",
    "BridgeConfig",
    "DHCPv4Config",
    "DHCPv6Config",
    "DummyLinkConfig",
    "HCloudVIPConfig",
    "HostnameConfig",
    "Layer2VIPConfig",
    "LinkAliasConfig",
    "LinkConfig",
    "OOMConfig",
    "RegistryAuthConfig",
    "RegistryMirrorConfig",
    "RegistryTLSConfig",
    "ResolverConfig",
    "StaticHostConfig",
    "TimeSyncConfig",
    "VLANConfig",
    "WireguardConfig",
  ],
  13: [
    "BlackholeRouteConfig",
    "EnvironmentConfig",
    "ExternalVolumeConfig",
    "ImageVerificationConfig",
    "KubeSpanConfig",
    "RoutingRuleConfig",
    "TCPProbeConfig",
    "VRFConfig",
  ],
  14: [
    "BGPInstanceConfig",
    "CRIBaseRuntimeSpecConfig",
    "CRICustomizationConfig",
    "ContainerConfig",
    "DiscoveryIdentityConfig",
    "DiscoveryServiceConfig",
    "EtcFileConfig",
    "FilesystemScrubConfig",
    "FilesystemTrimConfig",
    "HTTPProbeConfig",
    "ImageCacheConfig",
    "KernelModuleConfig",
    "KubeAPIServerCAConfig",
    "KubeAPIServerConfig",
    "KubeAdmissionControlConfig",
    "KubeAggregatorCAConfig",
    "KubeAuditPolicyConfig",
    "KubeAuthenticationConfig",
    "KubeAuthorizerConfig",
    "KubeClusterConfig",
    "KubeControllerManagerConfig",
    "KubeCoreDNSConfig",
    "KubeCredentialProviderConfig",
    "KubeEtcdEncryptionConfig",
    "KubeExternalManifestConfig",
    "KubeFlannelCNIConfig",
    "KubeInlineManifestConfig",
    "KubeNetworkConfig",
    "KubeNodeConfig",
    "KubePrismConfig",
    "KubeProxyConfig",
    "KubeSchedulerConfig",
    "KubeServiceAccountConfig",
    "KubeStaticPodConfig",
    "KubeTalosAPIAccessConfig",
    "KubeletConfig",
    "LVMLogicalVolumeConfig",
    "LVMVolumeGroupConfig",
    "RAIDArrayConfig",
    "SecurityProfileConfig",
    "SysctlConfig",
    "SysfsConfig",
    "UdevRulesConfig",
    "UnattendedInstallConfig",
    "VethConfig",
  ],
  15: [],
});

/** Everything that differs between release lines for the documents this package builds. */
export interface TalosVersionFeatures {
  /** The release line, e.g. `v1.13`. */
  readonly line: TalosLine;
  /** `machine.network.{hostname,interfaces,nameservers,searchDomains,extraHostEntries}` is the way to configure networking (≤1.11). */
  readonly legacyNetwork: boolean;
  /** `machine.time.servers` is the way to configure time sync (≤1.11); TimeSyncConfig otherwise. */
  readonly legacyTime: boolean;
  /**
   * Kubernetes settings live in v1alpha1 (`machine.kubelet`, `cluster.controlPlane`, `cluster.clusterName`,
   * `cluster.network`, `cluster.allowSchedulingOnControlPlanes`, `cluster.inlineManifests`,
   * `cluster.extraManifests`) (≤1.13); the Kube* documents otherwise.
   */
  readonly legacyKubernetes: boolean;
  /** `machine.install` is the way to configure installation (≤1.13); UnattendedInstallConfig otherwise. */
  readonly legacyInstall: boolean;
  /** The multi-document kinds this package models (of {@link MultiDocKind}) that this line accepts. */
  readonly kinds: readonly MultiDocKind[];
  /** Every multi-document kind this line registers (modelled here or not), sorted. */
  readonly registeredKinds: readonly string[];
  /**
   * The documents this line's own generator (`talosctl gen config`, default options, an install disk set)
   * emits for a control plane, in order (`v1alpha1` = the legacy document; kinds this package does not
   * model included).
   */
  readonly generatorDocuments: readonly string[];
  /** Like {@link TalosVersionFeatures.generatorDocuments}, for a worker. */
  readonly generatorWorkerDocuments: readonly string[];
  /**
   * The nearest official JSON schema in `../shared/talos/`: `v1.13` (the 1.13.9 schema) for 1.11..1.13,
   * `v1.15` for 1.14 and 1.15 (same document kinds). The 1.13.9 schema lacks what the older lines still
   * list: 1.11 `machine.network`, `machine.time` and the feature flags `rbac`, `stableHostname`,
   * `apidCheckExtKeyUsage`; 1.12 `machine.network.kubespan`.
   */
  readonly schema: "v1.13" | "v1.15";
}

const VERSION_RE = /^v?(\d+)\.(\d+)(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?$/;

/**
 * Parses a Talos version such as `v1.13.9`, `1.14`, or `v1.14.0-rc.1` (the leading `v` and the patch
 * number are optional).
 *
 * @throws TalosConfigError `UNSUPPORTED_VERSION` when the text is not a version or the line is outside v1.11..v1.15.
 */
export function parseTalosVersion(input: string | TalosVersion): TalosVersion {
  if (typeof input !== "string" && !isVersionObject(input)) {
    throw new TalosConfigError("UNSUPPORTED_VERSION", "target: must be a Talos version like v1.13.9", {
      details: { field: "target" },
    });
  }
  const version = typeof input === "string" ? parseText(input) : input;
  if (version.major !== 1 || version.minor < 11 || version.minor > 15) {
    throw new TalosConfigError(
      "UNSUPPORTED_VERSION",
      `target: Talos ${formatTalosVersion(version)} is not supported (supported lines: ${SUPPORTED_TALOS_LINES.join(", ")})`,
      { details: { field: "target", version: formatTalosVersion(version) } },
    );
  }
  return version;
}

function isVersionObject(value: unknown): value is TalosVersion {
  if (value === null || typeof value !== "object") return false;
  const v = value as Record<string, unknown>;
  return [v.major, v.minor, v.patch].every((n) => typeof n === "number" && Number.isInteger(n) && n >= 0);
}

function parseText(text: string): TalosVersion {
  const match = VERSION_RE.exec(text.trim());
  if (!match) {
    throw new TalosConfigError(
      "UNSUPPORTED_VERSION",
      `target: "${text}" is not a Talos version like v1.13.9`,
      {
        details: { field: "target", version: text },
      },
    );
  }
  const version: { major: number; minor: number; patch: number; prerelease?: string } = {
    major: Number(match[1]),
    minor: Number(match[2]),
    patch: match[3] === undefined ? 0 : Number(match[3]),
  };
  if (match[4] !== undefined) version.prerelease = match[4];
  return Object.freeze(version);
}

/** Formats a version as Talos tags it: `v1.13.9`, `v1.14.0-rc.1`. */
export function formatTalosVersion(version: TalosVersion): string {
  const base = `v${version.major}.${version.minor}.${version.patch}`;
  return version.prerelease === undefined ? base : `${base}-${version.prerelease}`;
}

/** Orders two versions (negative when `a` is older). Prereleases sort before their release. */
export function compareTalosVersions(a: string | TalosVersion, b: string | TalosVersion): number {
  const x = typeof a === "string" ? parseText(a) : a;
  const y = typeof b === "string" ? parseText(b) : b;
  if (x.major !== y.major) return x.major - y.major;
  if (x.minor !== y.minor) return x.minor - y.minor;
  if (x.patch !== y.patch) return x.patch - y.patch;
  if (x.prerelease === y.prerelease) return 0;
  if (x.prerelease === undefined) return 1;
  if (y.prerelease === undefined) return -1;
  return x.prerelease < y.prerelease ? -1 : 1;
}

/**
 * The release line of a target version.
 *
 * @throws TalosConfigError `UNSUPPORTED_VERSION`
 */
export function talosLine(target: string | TalosVersion): TalosLine {
  const version = parseTalosVersion(target);
  return `v1.${version.minor}` as TalosLine;
}

/** What each line's generator emits (read from the Talos generator sources of each contract). */
function generatorOutput(minor: number): { controlplane: string[]; worker: string[] } {
  if (minor <= 11) return { controlplane: [V1ALPHA1_KIND], worker: [V1ALPHA1_KIND] };
  if (minor <= 13)
    return { controlplane: [V1ALPHA1_KIND, "HostnameConfig"], worker: [V1ALPHA1_KIND, "HostnameConfig"] };
  const head = [
    V1ALPHA1_KIND,
    "DiscoveryServiceConfig",
    "DiscoveryIdentityConfig",
    "UnattendedInstallConfig",
    "ResolverConfig",
    "VolumeConfig",
    "FilesystemTrimConfig",
    "SecurityProfileConfig",
    "HostnameConfig",
    "KubeClusterConfig",
    "KubeNodeConfig",
    "KubeletConfig",
    "KubeNetworkConfig",
    "KubeAPIServerCAConfig",
    "KubePrismConfig",
  ];
  const controlPlaneOnly = [
    "KubeAggregatorCAConfig",
    "KubeAdmissionControlConfig",
    "KubeAuditPolicyConfig",
    "KubeAuthenticationConfig",
    "KubeAuthorizerConfig",
    "KubeEtcdEncryptionConfig",
    "KubeServiceAccountConfig",
    "KubeAPIServerConfig",
    "KubeControllerManagerConfig",
    "KubeSchedulerConfig",
    "KubeProxyConfig",
    "KubeFlannelCNIConfig",
    "KubeCoreDNSConfig",
  ];
  return { controlplane: [...head, ...controlPlaneOnly], worker: head };
}

const FEATURES = new Map<TalosLine, TalosVersionFeatures>();
for (const line of SUPPORTED_TALOS_LINES) {
  const minor = Number(line.slice(3));
  const kinds = (Object.keys(KIND_SINCE) as MultiDocKind[]).filter((kind) => KIND_SINCE[kind] <= minor);
  const registeredKinds: string[] = [];
  for (let m = 11; m <= minor; m++) registeredKinds.push(...(REGISTERED_KINDS_ADDED[m] ?? []));
  registeredKinds.sort();
  const { controlplane: generatorDocuments, worker: generatorWorkerDocuments } = generatorOutput(minor);
  FEATURES.set(
    line,
    Object.freeze({
      line,
      legacyNetwork: minor <= 11,
      legacyTime: minor <= 11,
      legacyKubernetes: minor <= 13,
      legacyInstall: minor <= 13,
      kinds: Object.freeze(kinds),
      registeredKinds: Object.freeze(registeredKinds),
      generatorDocuments: Object.freeze(generatorDocuments),
      generatorWorkerDocuments: Object.freeze(generatorWorkerDocuments),
      schema: minor <= 13 ? "v1.13" : "v1.15",
    }),
  );
}

/**
 * What a target version expects: legacy sections or new documents, accepted kinds, generator output.
 *
 * @throws TalosConfigError `UNSUPPORTED_VERSION`
 */
export function versionFeatures(target: string | TalosVersion): TalosVersionFeatures {
  return FEATURES.get(talosLine(target))!;
}

/**
 * True when the target version registers documents of `kind` (any kind Talos has, modelled here or not;
 * `v1alpha1` is always accepted). Only the names Talos registers count: the official schema's
 * `UnattendedInstall` is not one (Talos registers `UnattendedInstallConfig`).
 *
 * @throws TalosConfigError `UNSUPPORTED_VERSION`
 */
export function supportsKind(target: string | TalosVersion, kind: string): boolean {
  if (kind === V1ALPHA1_KIND) {
    parseTalosVersion(target);
    return true;
  }
  return versionFeatures(target).registeredKinds.includes(kind);
}

/** True when networking (hostname, links, resolvers) goes into `machine.network` (≤1.11). @throws TalosConfigError `UNSUPPORTED_VERSION` */
export function usesLegacyNetwork(target: string | TalosVersion): boolean {
  return versionFeatures(target).legacyNetwork;
}

/** True when time servers go into `machine.time` (≤1.11). @throws TalosConfigError `UNSUPPORTED_VERSION` */
export function usesLegacyTime(target: string | TalosVersion): boolean {
  return versionFeatures(target).legacyTime;
}

/** True when kubelet and cluster settings go into the v1alpha1 document (≤1.13). @throws TalosConfigError `UNSUPPORTED_VERSION` */
export function usesLegacyKubernetes(target: string | TalosVersion): boolean {
  return versionFeatures(target).legacyKubernetes;
}

/** True when install settings go into `machine.install` (≤1.13). @throws TalosConfigError `UNSUPPORTED_VERSION` */
export function usesLegacyInstall(target: string | TalosVersion): boolean {
  return versionFeatures(target).legacyInstall;
}
