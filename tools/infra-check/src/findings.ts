// What the check reports: finding codes and the finding record, and how they are ordered.

/** Codes of {@link InfraFinding}. */
export type InfraFindingCode =
  | "PARSE_ERROR"
  | "DUPLICATE_DECLARATION"
  | "UNKNOWN_PROVIDER"
  | "PROVIDER_NOT_PINNED"
  | "MISSING_REQUIRED_VERSION"
  | "REQUIRED_VERSION_TOO_LOW"
  | "UNKNOWN_RESOURCE_TYPE"
  | "NOT_IN_SNAPSHOT"
  | "UNKNOWN_ATTRIBUTE"
  | "UNKNOWN_BLOCK"
  | "ATTRIBUTE_AS_BLOCK"
  | "READ_ONLY_ATTRIBUTE"
  | "MISSING_REQUIRED"
  | "WRITE_ONLY_PAIR"
  | "DEPRECATED"
  | "INVALID_VALUE"
  | "UNRESOLVED_REFERENCE"
  | "INVALID_CONTEXT"
  | "VARIABLE_MISSING_TYPE"
  | "VARIABLE_MISSING_DESCRIPTION"
  | "VARIABLE_BAD_TYPE"
  | "SECRET_NOT_SENSITIVE"
  | "OUTPUT_NOT_SENSITIVE"
  | "TFVARS_PARSE_ERROR"
  | "TFVARS_UNKNOWN_VARIABLE"
  | "TFVARS_MISSING_VARIABLE"
  | "TFVARS_TYPE"
  | "TFVARS_SECRET";

/** One problem found by {@link validateInfrastructure}. */
export interface InfraFinding {
  code: InfraFindingCode;
  severity: "error" | "warning";
  /** File name relative to `dir` (or the tfvars name given). */
  file: string;
  line?: number;
  /** What the finding is about, e.g. `talos_machine_bootstrap.this` or `var.cluster`. */
  address?: string;
  message: string;
}

/** Where the checks send their findings. */
export type Report = (finding: InfraFinding) => void;

/** Findings by file, then line. */
export function sortFindings(findings: InfraFinding[]): InfraFinding[] {
  return findings.sort((a, b) => a.file.localeCompare(b.file) || (a.line ?? 0) - (b.line ?? 0));
}
