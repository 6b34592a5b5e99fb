export type {
  EmulatedNode,
  EmulatedNodeState,
  EmulatorCallLogEntry,
  EmulatorFault,
  EmulatorNodeSpec,
  KubeconfigContext,
  TalosEmulator,
  TalosEmulatorOptions,
} from "./emulator/types.js";
export { createTalosEmulator } from "./emulator.js";
export type {
  BuildMachineConfigOptions,
  BuildTalosconfigOptions,
  CertificateAndKey,
  GenerateTalosCaOptions,
  IssueCertificateOptions,
} from "./pki.js";
export {
  buildMachineConfig,
  buildTalosconfig,
  certificateOrganizations,
  generateTalosCa,
  issueCertificate,
} from "./pki.js";
