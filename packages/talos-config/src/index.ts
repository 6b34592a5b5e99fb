export type { TalosConfigErrorOptions } from "./errors.js";
export { isTalosConfigError, TalosConfigError, TalosConfigErrorCode } from "./errors.js";
export type { GenerateConfigOptions } from "./generate/generate-config.js";
export { generateConfig } from "./generate/generate-config.js";
export type { ConfigDocument, DocumentKey } from "./model/document.js";
export { documentKey, documentKind, documentLabel, isV1Alpha1Document } from "./model/document.js";
// --- generation and patching ---
export type { ConfigPatch } from "./patch/apply-patches.js";
export { applyPatches } from "./patch/apply-patches.js";
export type { JsonPatchOperation } from "./patch/json6902.js";
export type { CertificateAndKey, GenerateSecretsOptions, SecretsBundle } from "./secrets/secrets-bundle.js";
export { CA_VALIDITY_HOURS, generateSecrets } from "./secrets/secrets-bundle.js";
export { secretsFromYaml, secretsToYaml } from "./secrets/secrets-yaml.js";
export type { GenerateTalosconfigOptions } from "./talosconfig.js";
export { generateTalosconfig, TALOS_ROLES } from "./talosconfig.js";
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
