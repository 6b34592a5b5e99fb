/** Error codes of the tofu module. Public API: adding one is minor, renaming or removing one is major. */
export const TofuErrorCode = {
  /** Neither `tofu` nor `terraform` was found (and no `bin`/`HOMELAB_TOFU_BIN` was given). */
  TOFU_NOT_FOUND: "TOFU_NOT_FOUND",
  /** tofu exited non-zero; `details.diagnostics` holds what it reported (file and line when known). */
  TOFU_FAILED: "TOFU_FAILED",
  /** The run was aborted; tofu received SIGINT and exited (its state lock released). */
  TOFU_INTERRUPTED: "TOFU_INTERRUPTED",
  /** tofu printed something that is not the JSON it documents (e.g. `output -json`). */
  TOFU_BAD_OUTPUT: "TOFU_BAD_OUTPUT",
  /** A `.tf` file could not be parsed, or the providers schema could not be read. */
  INFRA_PARSE_ERROR: "INFRA_PARSE_ERROR",
  /** `renderTfvars` got input it cannot express (e.g. a literal secret or a duplicate node name). */
  INVALID_TFVARS_INPUT: "INVALID_TFVARS_INPUT",
} as const;

/** Union of the tofu module's error codes. */
export type TofuErrorCode = (typeof TofuErrorCode)[keyof typeof TofuErrorCode];

/** Options of {@link TofuError}. */
export interface TofuErrorOptions extends ErrorOptions {
  details?: Record<string, unknown>;
}

/**
 * The error thrown by the tofu runner, the tfvars renderer and the infrastructure validator.
 * Messages never contain secret values.
 */
export class TofuError extends Error {
  override readonly name = "TofuError";
  readonly code: TofuErrorCode;
  /** The message without the `[code]` prefix. */
  readonly rawMessage: string;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: TofuErrorCode, message: string, options: TofuErrorOptions = {}) {
    super(`[${code}] ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.rawMessage = message;
    this.details = options.details;
  }
}

/** True for a {@link TofuError}, also across duplicate installs (checks `name` and `code`). */
export function isTofuError(value: unknown): value is TofuError {
  return (
    value instanceof Error &&
    value.name === "TofuError" &&
    typeof (value as { code?: unknown }).code === "string" &&
    ((value as { code?: unknown }).code as string) in TofuErrorCode
  );
}
