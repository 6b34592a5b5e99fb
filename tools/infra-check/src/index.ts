export { InfraCheckError, InfraCheckErrorCode } from "./errors.js";
export type { ScannedAttribute, ScannedBlock, ScannedBody } from "./hcl-scan.js";
export { scanHcl } from "./hcl-scan.js";
export type {
  InfraFinding,
  InfraFindingCode,
  ProvidersSchema,
  ValidateInfrastructureOptions,
} from "./validate.js";
export { validateInfrastructure } from "./validate.js";
