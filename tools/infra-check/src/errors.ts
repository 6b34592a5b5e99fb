/** Error codes of the infrastructure check. */
export const InfraCheckErrorCode = {
  /** A `.tf` file could not be parsed, or the directory or the providers schema could not be read. */
  INFRA_PARSE_ERROR: "INFRA_PARSE_ERROR",
} as const;

/** Union of {@link InfraCheckErrorCode}'s values. */
export type InfraCheckErrorCode = (typeof InfraCheckErrorCode)[keyof typeof InfraCheckErrorCode];

/** The one error this tool throws; findings about the checked files are returned, not thrown. */
export class InfraCheckError extends Error {
  override readonly name = "InfraCheckError";
  readonly code: InfraCheckErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: InfraCheckErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(`[${code}] ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details;
  }
}
