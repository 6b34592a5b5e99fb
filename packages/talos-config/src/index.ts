export type { BuildInstallOptions } from "./builders/install.js";
export { buildInstall, diskSelectorExpression } from "./builders/install.js";
export type {
  CloudflaredIntent,
  ClusterIntent,
  CniIntent,
  ExtensionsIntent,
  ExternalManifestIntent,
  InlineManifestIntent,
  InstallIntent,
  InterfaceIntent,
  LinkSelectorIntent,
  NodeIntent,
  RouteIntent,
  StaticHostIntent,
  TailscaleIntent,
  VlanIntent,
} from "./builders/intent.js";
export type { BuildClusterSettingsOptions, BuildNodeIpOptions } from "./builders/kubernetes.js";
export { buildClusterSettings, buildNodeIp, CONTROL_PLANE_TAINT } from "./builders/kubernetes.js";
export type {
  BuildHostnameOptions,
  BuildInterfacesOptions,
  BuildNameserversOptions,
  BuildStaticHostsOptions,
  BuildTimeServersOptions,
} from "./builders/network.js";
export {
  buildHostname,
  buildInterfaces,
  buildNameservers,
  buildStaticHosts,
  buildTimeServers,
  lanSubnets,
  linkSelectorExpression,
  resolveNameservers,
} from "./builders/network.js";
export { buildNodePatches } from "./builders/node.js";
// --- generation and patching ---
export type { ConfigDiff, DocumentDiff, FieldChange } from "./diff.js";
export { diffConfigs, renderDiff } from "./diff.js";
export type { TalosConfigErrorOptions } from "./errors.js";
export { isTalosConfigError, TalosConfigError, TalosConfigErrorCode } from "./errors.js";
export {
  buildExtensionServices,
  cloudflaredServiceConfig,
  environmentName,
  KNOWN_EXTENSION_SERVICES,
  replaceExtensionServicesPatches,
  setExtensionEnvironment,
  tailscaleServiceConfig,
  upsertExtensionServices,
} from "./extensions.js";
export type { GenerateConfigOptions } from "./generate/generate-config.js";
export { generateConfig } from "./generate/generate-config.js";
export type { LintContext, LintFinding, LintSeverity } from "./lint/index.js";
export { LintCode, lint } from "./lint/index.js";
export type { ConfigDocument, DocumentByKind, DocumentKey } from "./model/document.js";
export {
  documentKey,
  documentKind,
  documentLabel,
  isDocumentOfKind,
  isV1Alpha1Document,
} from "./model/document.js";
export type {
  KubeAPIServerConfigDocument,
  KubeClusterConfigDocument,
  KubeExternalManifestConfigDocument,
  KubeFlannelCNIConfigDocument,
  KubeInlineManifestConfigDocument,
  KubeletConfigDocument,
  KubeNetworkConfigDocument,
  KubeNodeConfigDocument,
} from "./model/kubernetes.js";
export type {
  AddressConfig,
  DHCPv4ConfigDocument,
  DHCPv6ConfigDocument,
  HostnameConfigDocument,
  Layer2VIPConfigDocument,
  LinkAliasConfigDocument,
  LinkConfigDocument,
  NameserverConfig,
  ResolverConfigDocument,
  RouteConfig,
  StaticHostConfigDocument,
  TimeSyncConfigDocument,
  VLANConfigDocument,
} from "./model/network.js";
export type { ExtensionServiceConfigDocument, UnattendedInstallConfigDocument } from "./model/runtime.js";
export type {
  InstallDiskSelector,
  LegacyClusterNetwork,
  LegacyDevice,
  LegacyDeviceSelector,
  LegacyInstall,
  LegacyKubelet,
  LegacyNetwork,
  LegacyRoute,
  LegacyTime,
  LegacyVlan,
  V1Alpha1Cluster,
  V1Alpha1Document,
  V1Alpha1Machine,
} from "./model/v1alpha1.js";
export type { Cidr, IpAddress } from "./net.js";
export {
  cidrContains,
  corednsAddress,
  corednsAddresses,
  formatCidr,
  formatIp,
  networkOf,
  parseCidr,
  parseIp,
  tryParseCidr,
  tryParseIp,
} from "./net.js";
export type { ConfigPatch } from "./patch/apply-patches.js";
export { applyPatches, loadPatch } from "./patch/apply-patches.js";
export type { JsonPatchOperation } from "./patch/json6902.js";
export type { CreateSchematicOptions, InstallerImageOptions, IsoUrlOptions, Schematic } from "./schematic.js";
export {
  createSchematic,
  EMPTY_SCHEMATIC_ID,
  IMAGE_FACTORY_HOST,
  installerImage,
  isoUrl,
  parseSchematic,
} from "./schematic.js";
export type { CertificateAndKey, GenerateSecretsOptions, SecretsBundle } from "./secrets/secrets-bundle.js";
export { CA_VALIDITY_HOURS, generateSecrets } from "./secrets/secrets-bundle.js";
export { secretsFromYaml, secretsToYaml } from "./secrets/secrets-yaml.js";
export type { GenerateTalosconfigOptions } from "./talosconfig.js";
export { generateTalosconfig, TALOS_ROLES } from "./talosconfig.js";
export type { ConfigIssue, ValidateConfigOptions } from "./validate/validate-config.js";
export { validateConfig } from "./validate/validate-config.js";
export type { MultiDocKind, TalosLine, TalosVersion, TalosVersionFeatures } from "./version.js";
export {
  compareTalosVersions,
  formatTalosVersion,
  parseTalosVersion,
  SUPPORTED_TALOS_LINES,
  supportsKind,
  talosLine,
  usesLegacyInstall,
  usesLegacyKubernetes,
  usesLegacyNetwork,
  usesLegacyTime,
  V1ALPHA1_KIND,
  versionFeatures,
} from "./version.js";
export type { StringifyDocumentsOptions } from "./yaml.js";
export {
  compareKeys,
  isSecretEnvironmentEntry,
  isSecretPath,
  parseDocuments,
  REDACTED,
  redactDocuments,
  stringifyDocuments,
} from "./yaml.js";
