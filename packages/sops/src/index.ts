export type { AgeKeyPair } from "./age.js";
export { ageRecipientOf, generateAgeKey, parseAgeIdentities } from "./age.js";
export type { SopsErrorOptions } from "./errors.js";
export { isSopsError, SopsError, SopsErrorCode } from "./errors.js";
export type {
  DecryptOptions,
  DecryptResult,
  EncryptionRules,
  EncryptOptions,
  RotateOptions,
  SopsFormat,
  SopsMetadata,
  UpdateOptions,
} from "./sops.js";
export {
  decrypt,
  encrypt,
  isSopsEncrypted,
  readSopsMetadata,
  rotate,
  SOPS_FORMAT_VERSION,
  sopsFormatFromPath,
  updateEncrypted,
} from "./sops.js";
