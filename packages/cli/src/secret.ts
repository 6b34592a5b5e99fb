import { inspect } from "node:util";

const REDACTED = "[redacted]";

/**
 * A secret value resolved from a reference (`env:NAME`, `file:PATH`, `sops:key.path`) or produced at run time
 * (a tunnel token, a sensitive tofu output). It prints as `[redacted]` in `String()`,
 * `JSON.stringify` and `util.inspect`; only {@link Secret.reveal} returns the value.
 */
export class Secret<T = string> {
  readonly #value: T;
  /** Where the value came from, e.g. `env:TS_AUTHKEY` (safe to print). */
  readonly source: string;

  constructor(value: T, source: string) {
    this.#value = value;
    this.source = source;
  }

  /** The secret value itself: pass it to a library, never to output. */
  reveal(): T {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return `Secret(${this.source}, ${REDACTED})`;
  }
}

/** True when `value` is a secret reference (`env:NAME`, `file:PATH` or `sops:key.path`). */
export function isSecretReference(value: string): boolean {
  return (
    /^env:[A-Za-z_][A-Za-z0-9_]*$/.test(value) ||
    /^file:.+/.test(value) ||
    /^sops:[^.\s]+(\.[^.\s]+)*$/.test(value)
  );
}

/** True when `value` is a {@link Secret}. */
export function isSecret(value: unknown): value is Secret<unknown> {
  return value instanceof Secret;
}
