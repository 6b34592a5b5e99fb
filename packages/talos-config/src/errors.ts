/** Every code a {@link TalosConfigError} can carry. Adding one is a minor change; renaming or removing one is major. */
export const TalosConfigErrorCode = {
  INVALID_INPUT: "INVALID_INPUT",
  UNSUPPORTED_VERSION: "UNSUPPORTED_VERSION",
  INVALID_CIDR: "INVALID_CIDR",
  INVALID_PATCH: "INVALID_PATCH",
  INVALID_CONFIG: "INVALID_CONFIG",
  PARSE_ERROR: "PARSE_ERROR",
  UNKNOWN_EXTENSION: "UNKNOWN_EXTENSION",
  INTERNAL: "INTERNAL",
} as const;

/** Union of the values of {@link TalosConfigErrorCode}. */
export type TalosConfigErrorCode = (typeof TalosConfigErrorCode)[keyof typeof TalosConfigErrorCode];

/** Options for {@link TalosConfigError}. */
export interface TalosConfigErrorOptions extends ErrorOptions {
  /** Structured, secret-free data about the failure (a field path, a node, a status). */
  details?: Record<string, unknown>;
}

const NAME = "TalosConfigError";

/**
 * The one error type this package throws. `message` starts with `[code]`; the text without the
 * prefix is kept in `rawMessage`. Messages never carry secrets.
 */
export class TalosConfigError extends Error {
  override readonly name: typeof NAME = NAME;
  readonly code: TalosConfigErrorCode;
  readonly rawMessage: string;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: TalosConfigErrorCode, message: string, options: TalosConfigErrorOptions = {}) {
    super(`[${code}] ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.rawMessage = message;
    this.details = options.details;
  }

  /**
   * Returns `value` when it already is a {@link TalosConfigError} (from any copy of this package), otherwise
   * wraps it with code `fallback`, keeping the original as `cause`.
   */
  static from(value: unknown, fallback: TalosConfigErrorCode = "INTERNAL"): TalosConfigError {
    if (isTalosConfigError(value)) return value;
    const message = value instanceof Error ? value.message : String(value);
    return new TalosConfigError(fallback, message, { cause: value });
  }
}

/** True for a {@link TalosConfigError} from any installed copy of this package (checks `name` and `code`). */
export function isTalosConfigError(value: unknown): value is TalosConfigError {
  return (
    value instanceof Error &&
    value.name === NAME &&
    typeof (value as Error & { code?: unknown }).code === "string" &&
    Object.hasOwn(TalosConfigErrorCode, (value as Error & { code: string }).code)
  );
}
