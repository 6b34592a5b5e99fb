import { inspect } from "node:util";

const REDACTED = "[redacted]";

/**
 * A value that must not reach logs: `toString`, `toJSON` and `util.inspect` print `[redacted]`;
 * only {@link Secret.reveal} returns it.
 */
export class Secret<T = unknown> {
  readonly #value: T;

  constructor(value: T) {
    this.#value = value;
    Object.defineProperty(this, inspect.custom, { value: () => `Secret(${REDACTED})`, enumerable: false });
  }

  /** The wrapped value. Call it only where the value is written to its destination. */
  reveal(): T {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }
}

/** True when `value` is a {@link Secret}. */
export function isSecret(value: unknown): value is Secret {
  return value instanceof Secret;
}
