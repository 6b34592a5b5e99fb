/** Every code a {@link SopsError} can carry. Adding one is a minor change; renaming or removing one is major. */
export const SopsErrorCode = {
  /** The input is not valid YAML/JSON/dotenv, or its shape cannot be encrypted (non-string key, alias). */
  INVALID_INPUT: "INVALID_INPUT",
  /** The file has no `sops` metadata, or the metadata is malformed. */
  METADATA_NOT_FOUND: "METADATA_NOT_FOUND",
  /** The file is already encrypted (it has top-level `sops` metadata). */
  ALREADY_ENCRYPTED: "ALREADY_ENCRYPTED",
  /** None of the given age identities can unwrap the data key. */
  NO_MATCHING_KEY: "NO_MATCHING_KEY",
  /** A value does not decrypt (wrong key, moved or tampered value) or is not in the `ENC[...]` format. */
  DECRYPTION_FAILED: "DECRYPTION_FAILED",
  /** The MAC stored in the file does not match the values: the file was tampered with or corrupted. */
  MAC_MISMATCH: "MAC_MISMATCH",
  /** A recipient or identity string is not a valid age key. */
  INVALID_KEY: "INVALID_KEY",
  /** The options are inconsistent (no recipients, conflicting encryption rules, unsupported feature). */
  INVALID_OPTIONS: "INVALID_OPTIONS",
  INTERNAL: "INTERNAL",
} as const;

/** Union of the values of {@link SopsErrorCode}. */
export type SopsErrorCode = (typeof SopsErrorCode)[keyof typeof SopsErrorCode];

/** Options for {@link SopsError}. */
export interface SopsErrorOptions extends ErrorOptions {
  /** Structured, secret-free data about the failure (a key path, a recipient). */
  details?: Record<string, unknown>;
}

const NAME = "SopsError";

/**
 * The one error type this package throws. `message` starts with `[code]`; the text without the
 * prefix is kept in `rawMessage`. Messages carry key paths, never values or keys.
 */
export class SopsError extends Error {
  override readonly name: typeof NAME = NAME;
  readonly code: SopsErrorCode;
  readonly rawMessage: string;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: SopsErrorCode, message: string, options: SopsErrorOptions = {}) {
    super(`[${code}] ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.rawMessage = message;
    this.details = options.details;
  }

  /**
   * Returns `value` when it already is a {@link SopsError} (from any copy of this package), otherwise
   * wraps it with code `fallback`, keeping the original as `cause`.
   */
  static from(value: unknown, fallback: SopsErrorCode = "INTERNAL"): SopsError {
    if (isSopsError(value)) return value;
    const message = value instanceof Error ? value.message : String(value);
    return new SopsError(fallback, message, { cause: value });
  }
}

/** True for a {@link SopsError} from any installed copy of this package (checks `name` and `code`). */
export function isSopsError(value: unknown): value is SopsError {
  return (
    value instanceof Error &&
    value.name === NAME &&
    typeof (value as Error & { code?: unknown }).code === "string" &&
    Object.hasOwn(SopsErrorCode, (value as Error & { code: string }).code)
  );
}
