/** Every code a {@link ArgoBootstrapError} can carry. Adding one is a minor change; renaming or removing one is major. */
export const ArgoBootstrapErrorCode = {
  INVALID_MANIFEST: "INVALID_MANIFEST",
  POLICY_VIOLATION: "POLICY_VIOLATION",
  HELM_NOT_FOUND: "HELM_NOT_FOUND",
  HELM_FAILED: "HELM_FAILED",
  HELM_TIMEOUT: "HELM_TIMEOUT",
  ROLLOUT_TIMEOUT: "ROLLOUT_TIMEOUT",
  ROLLOUT_FAILED: "ROLLOUT_FAILED",
  SYNC_TIMEOUT: "SYNC_TIMEOUT",
  APP_DEGRADED: "APP_DEGRADED",
  SYNC_FAILED: "SYNC_FAILED",
  INVALID_OPTIONS: "INVALID_OPTIONS",
  ABORTED: "ABORTED",
  KUBE_API_ERROR: "KUBE_API_ERROR",
  NOT_FOUND: "NOT_FOUND",
  INTERNAL: "INTERNAL",
} as const;

/** Union of the values of {@link ArgoBootstrapErrorCode}. */
export type ArgoBootstrapErrorCode = (typeof ArgoBootstrapErrorCode)[keyof typeof ArgoBootstrapErrorCode];

/** Options for {@link ArgoBootstrapError}. */
export interface ArgoBootstrapErrorOptions extends ErrorOptions {
  /** Structured, secret-free data about the failure (a field path, a node, a status). */
  details?: Record<string, unknown>;
}

const NAME = "ArgoBootstrapError";

/**
 * The one error type this package throws. `message` starts with `[code]`; the text without the
 * prefix is kept in `rawMessage`. Messages never carry secrets.
 */
export class ArgoBootstrapError extends Error {
  override readonly name: typeof NAME = NAME;
  readonly code: ArgoBootstrapErrorCode;
  readonly rawMessage: string;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ArgoBootstrapErrorCode, message: string, options: ArgoBootstrapErrorOptions = {}) {
    super(`[${code}] ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.rawMessage = message;
    this.details = options.details;
  }

  /**
   * Returns `value` when it already is a {@link ArgoBootstrapError} (from any copy of this package), otherwise
   * wraps it with code `fallback`, keeping the original as `cause`.
   */
  static from(value: unknown, fallback: ArgoBootstrapErrorCode = "INTERNAL"): ArgoBootstrapError {
    if (isArgoBootstrapError(value)) return value;
    const message = value instanceof Error ? value.message : String(value);
    return new ArgoBootstrapError(fallback, message, { cause: value });
  }
}

/** True for a {@link ArgoBootstrapError} from any installed copy of this package (checks `name` and `code`). */
export function isArgoBootstrapError(value: unknown): value is ArgoBootstrapError {
  return (
    value instanceof Error &&
    value.name === NAME &&
    typeof (value as Error & { code?: unknown }).code === "string" &&
    Object.hasOwn(ArgoBootstrapErrorCode, (value as Error & { code: string }).code)
  );
}
