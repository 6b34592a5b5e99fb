export { InfraCheckError, InfraCheckErrorCode } from "./errors.js";
export type { InfraFinding, InfraFindingCode } from "./findings.js";
export type { ScannedAttribute, ScannedBlock, ScannedBody } from "./hcl-scan.js";
export { scanHcl } from "./hcl-scan.js";
export type { OfflineTerraform } from "./offline-terraform.js";
export { prepareOfflineTerraform } from "./offline-terraform.js";
export type { ProvidersSchema } from "./schema.js";
export type { ValidateInfrastructureOptions } from "./validate.js";
export { validateInfrastructure } from "./validate.js";
