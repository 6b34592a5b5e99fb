/** Every code a {@link TalosClientError} can carry. Adding one is a minor change; renaming or removing one is major. */
export const TalosClientErrorCode = {
  INVALID_ARGUMENT: "INVALID_ARGUMENT",
  INVALID_TALOSCONFIG: "INVALID_TALOSCONFIG",
  UNAVAILABLE: "UNAVAILABLE",
  DEADLINE_EXCEEDED: "DEADLINE_EXCEEDED",
  CANCELLED: "CANCELLED",
  UNAUTHENTICATED: "UNAUTHENTICATED",
  PERMISSION_DENIED: "PERMISSION_DENIED",
  NOT_FOUND: "NOT_FOUND",
  ALREADY_EXISTS: "ALREADY_EXISTS",
  FAILED_PRECONDITION: "FAILED_PRECONDITION",
  UNIMPLEMENTED: "UNIMPLEMENTED",
  RESOURCE_EXHAUSTED: "RESOURCE_EXHAUSTED",
  ABORTED: "ABORTED",
  UNKNOWN: "UNKNOWN",
  TLS_ERROR: "TLS_ERROR",
  NODE_ERROR: "NODE_ERROR",
  HEALTH_TIMEOUT: "HEALTH_TIMEOUT",
  INTERNAL: "INTERNAL",
} as const;

/** Union of the values of {@link TalosClientErrorCode}. */
export type TalosClientErrorCode = (typeof TalosClientErrorCode)[keyof typeof TalosClientErrorCode];

/** Options for {@link TalosClientError}. */
export interface TalosClientErrorOptions extends ErrorOptions {
  /** Structured, secret-free data about the failure (a field path, a node, a status). */
  details?: Record<string, unknown>;
}

const NAME = "TalosClientError";

/**
 * The one error type this package throws. `message` starts with `[code]`; the text without the
 * prefix is kept in `rawMessage`. Messages never carry secrets.
 */
export class TalosClientError extends Error {
  override readonly name: typeof NAME = NAME;
  readonly code: TalosClientErrorCode;
  readonly rawMessage: string;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: TalosClientErrorCode, message: string, options: TalosClientErrorOptions = {}) {
    super(`[${code}] ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.rawMessage = message;
    this.details = options.details;
  }

  /**
   * Returns `value` when it already is a {@link TalosClientError} (from any copy of this package), otherwise
   * wraps it with code `fallback`, keeping the original as `cause`.
   */
  static from(value: unknown, fallback: TalosClientErrorCode = "INTERNAL"): TalosClientError {
    if (isTalosClientError(value)) return value;
    const message = value instanceof Error ? value.message : String(value);
    return new TalosClientError(fallback, message, { cause: value });
  }
}

/** True for a {@link TalosClientError} from any installed copy of this package (checks `name` and `code`). */
export function isTalosClientError(value: unknown): value is TalosClientError {
  return (
    value instanceof Error &&
    value.name === NAME &&
    typeof (value as Error & { code?: unknown }).code === "string" &&
    Object.hasOwn(TalosClientErrorCode, (value as Error & { code: string }).code)
  );
}
