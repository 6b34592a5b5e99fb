/** Every code a {@link CfTunnelError} can carry. Adding one is a minor change; renaming or removing one is major. */
export const CfTunnelErrorCode = {
  INVALID_ROUTE: "INVALID_ROUTE",
  UNPROTECTED_ROUTE: "UNPROTECTED_ROUTE",
  CONFLICT: "CONFLICT",
  UNAUTHORIZED: "UNAUTHORIZED",
  NOT_FOUND: "NOT_FOUND",
  RATE_LIMITED: "RATE_LIMITED",
  API_ERROR: "API_ERROR",
  ABORTED: "ABORTED",
  INTERNAL: "INTERNAL",
} as const;

/** Union of the values of {@link CfTunnelErrorCode}. */
export type CfTunnelErrorCode = (typeof CfTunnelErrorCode)[keyof typeof CfTunnelErrorCode];

/** Options for {@link CfTunnelError}. */
export interface CfTunnelErrorOptions extends ErrorOptions {
  /** Structured, secret-free data about the failure (a field path, a node, a status). */
  details?: Record<string, unknown>;
}

const NAME = "CfTunnelError";

/**
 * The one error type this package throws. `message` starts with `[code]`; the text without the
 * prefix is kept in `rawMessage`. Messages never carry secrets.
 */
export class CfTunnelError extends Error {
  override readonly name: typeof NAME = NAME;
  readonly code: CfTunnelErrorCode;
  readonly rawMessage: string;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: CfTunnelErrorCode, message: string, options: CfTunnelErrorOptions = {}) {
    super(`[${code}] ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.rawMessage = message;
    this.details = options.details;
  }

  /**
   * Returns `value` when it already is a {@link CfTunnelError} (from any copy of this package), otherwise
   * wraps it with code `fallback`, keeping the original as `cause`.
   */
  static from(value: unknown, fallback: CfTunnelErrorCode = "INTERNAL"): CfTunnelError {
    if (isCfTunnelError(value)) return value;
    const message = value instanceof Error ? value.message : String(value);
    return new CfTunnelError(fallback, message, { cause: value });
  }
}

/** True for a {@link CfTunnelError} from any installed copy of this package (checks `name` and `code`). */
export function isCfTunnelError(value: unknown): value is CfTunnelError {
  return (
    value instanceof Error &&
    value.name === NAME &&
    typeof (value as Error & { code?: unknown }).code === "string" &&
    Object.hasOwn(CfTunnelErrorCode, (value as Error & { code: string }).code)
  );
}
