export type { InterfaceIntent, NodeIntent } from "./builders/intent.js";
export { buildNodePatches } from "./builders/node.js";
// --- generation and patching ---
export type { ConfigDiff, DocumentDiff, FieldChange } from "./diff.js";
export { diffConfigs, renderDiff } from "./diff.js";
export type { TalosConfigErrorOptions } from "./errors.js";
export { isTalosConfigError, TalosConfigError, TalosConfigErrorCode } from "./errors.js";
export {
  buildExtensionServices,
  cloudflaredServiceConfig,
  replaceExtensionServicesPatches,
  setExtensionEnvironment,
  tailscaleServiceConfig,
  upsertExtensionServices,
} from "./extensions.js";
export type { GenerateConfigOptions } from "./generate/generate-config.js";
export { generateConfig } from "./generate/generate-config.js";
export type { LintContext, LintFinding, LintSeverity } from "./lint/index.js";
export { LintCode, lint } from "./lint/index.js";
export type { ConfigDocument, DocumentByKind } from "./model/document.js";
export { documentKey, documentKind, documentLabel, isDocumentOfKind } from "./model/document.js";
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
export { createSchematic, IMAGE_FACTORY_HOST, installerImage, isoUrl, parseSchematic } from "./schematic.js";
export type { CertificateAndKey, GenerateSecretsOptions, SecretsBundle } from "./secrets/secrets-bundle.js";
export { generateSecrets } from "./secrets/secrets-bundle.js";
export { secretsFromYaml, secretsToYaml } from "./secrets/secrets-yaml.js";
export type { GenerateTalosconfigOptions } from "./talosconfig.js";
export { generateTalosconfig } from "./talosconfig.js";
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
  versionFeatures,
} from "./version.js";
export type { StringifyDocumentsOptions } from "./yaml.js";
export {
  isSecretEnvironmentEntry,
  isSecretPath,
  parseDocuments,
  REDACTED,
  redactDocuments,
  stringifyDocuments,
} from "./yaml.js";
