/** Every code a {@link HomelabError} can carry. Adding one is a minor change; renaming or removing one is major. */
export const HomelabErrorCode = {
  USAGE: "USAGE",
  CONFIG_NOT_FOUND: "CONFIG_NOT_FOUND",
  CONFIG_UNREADABLE: "CONFIG_UNREADABLE",
  CONFIG_INVALID: "CONFIG_INVALID",
  SECRET_UNRESOLVED: "SECRET_UNRESOLVED",
  MISSING_CREDENTIALS: "MISSING_CREDENTIALS",
  NEEDS_CONFIRMATION: "NEEDS_CONFIRMATION",
  STATE_INVALID: "STATE_INVALID",
  FILE_EXISTS: "FILE_EXISTS",
  COMMAND_FAILED: "COMMAND_FAILED",
  NODE_UNVERIFIED: "NODE_UNVERIFIED",
  UNREACHABLE: "UNREACHABLE",
  UNSAFE_ENDPOINT: "UNSAFE_ENDPOINT",
  LOCKED: "LOCKED",
  INTERRUPTED: "INTERRUPTED",
  INTERNAL: "INTERNAL",
  BACKUP_INVALID: "BACKUP_INVALID",
} as const;

/** Union of the values of {@link HomelabErrorCode}. */
export type HomelabErrorCode = (typeof HomelabErrorCode)[keyof typeof HomelabErrorCode];

/** One located problem in a homelab.yaml file. */
export interface ConfigIssue {
  /** The file the problem is in. */
  file: string;
  /** 1-based line. */
  line: number;
  /** 1-based column. */
  col: number;
  /** Path inside the document, e.g. `nodes[0].role`. */
  path: string;
  /** What was expected (never carries secret values). */
  message: string;
  /** How to fix it, when there is more to say than the message. */
  hint?: string;
}

/** Options for {@link HomelabError}. */
export interface HomelabErrorOptions extends ErrorOptions {
  /** Structured, secret-free data about the failure. */
  details?: Record<string, unknown>;
  /** Located config problems, for `CONFIG_INVALID`. */
  issues?: ConfigIssue[];
  /** A hint on what to do next. */
  hint?: string;
}

const NAME = "HomelabError";

/**
 * The error type of the CLI. `message` starts with `[code]`; the text without the prefix is kept
 * in `rawMessage`. Messages never carry secrets.
 */
export class HomelabError extends Error {
  override readonly name: typeof NAME = NAME;
  readonly code: HomelabErrorCode;
  readonly rawMessage: string;
  readonly details: Record<string, unknown> | undefined;
  readonly issues: ConfigIssue[];
  readonly hint: string | undefined;

  constructor(code: HomelabErrorCode, message: string, options: HomelabErrorOptions = {}) {
    super(`[${code}] ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.rawMessage = message;
    this.details = options.details;
    this.issues = options.issues ?? [];
    this.hint = options.hint;
  }

  /** Returns `value` when it already is a {@link HomelabError}, otherwise wraps it with code `fallback`. */
  static from(value: unknown, fallback: HomelabErrorCode = "INTERNAL"): HomelabError {
    if (isHomelabError(value)) return value;
    const message = value instanceof Error ? value.message : String(value);
    return new HomelabError(fallback, message, { cause: value });
  }
}

/** True for a {@link HomelabError} from any installed copy of this package (checks `name` and `code`). */
export function isHomelabError(value: unknown): value is HomelabError {
  return (
    value instanceof Error &&
    value.name === NAME &&
    typeof (value as Error & { code?: unknown }).code === "string" &&
    Object.hasOwn(HomelabErrorCode, (value as Error & { code: string }).code)
  );
}
